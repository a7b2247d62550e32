// Kafka side of the emitter: an idempotent producer (acks=all) and topic creation, on @platformatic/kafka.
import { Admin, compatibilityPartitioner, Producer, ProduceAcks } from '@platformatic/kafka';
import { kafkaOptions, type KafkaConnection } from '../../runtime/kafka.ts';
import type { Compression } from '../../runtime/kafka-compression.ts';
import { alreadyExists, kafkaError } from '../../runtime/kafka-errors.ts';

export interface OutMessage {
  topic: string;
  key: Buffer | null;
  /** null = tombstone */
  value: Buffer | null;
  /**
   * one copy to every partition of the topic (a truncate): each partition's consumer meets it after every
   * event sent before it to that partition, so no older event of any key can arrive after it
   */
  everyPartition?: boolean;
}

export interface PublisherOptions {
  connection: KafkaConnection;
  clientId: string;
  /** partitions of topics the connector creates */
  partitions: number;
  replicationFactor: number;
  /** extra topic configs for created topics, e.g. { 'cleanup.policy': 'compact' } (win over maxMessageBytes) */
  topicConfig: Record<string, string>;
  /** max.message.bytes of created topics */
  maxMessageBytes: number;
  compression: Compression;
}

export class KafkaPublisher {
  private readonly opts: PublisherOptions;
  private readonly producer: Producer<Buffer | null, Buffer | null>;
  private readonly admin: Admin;
  private readonly known = new Set<string>();
  private readonly partitionCounts = new Map<string, number>();

  constructor(opts: PublisherOptions) {
    this.opts = opts;
    const base = kafkaOptions(opts.connection, opts.clientId);
    // few client retries (~2 s): a longer outage is handled by the source, which reads again from its
    // acknowledged position (nothing unacknowledged is lost) after the emitter re-checks every topic.
    // idempotent: acks=all and ordered retries without duplicates within a producer session
    // keyed messages partitioned as the Java client does (murmur2), so as Debezium's topics are
    this.producer = new Producer<Buffer | null, Buffer | null>({
      ...base, acks: ProduceAcks.ALL, idempotent: true, compression: opts.compression, partitioner: compatibilityPartitioner,
      retries: 3, retryDelay: 500, timeout: 30_000, autocreateTopics: false,
    });
    this.admin = new Admin({ ...base, retries: 3, retryDelay: 500 });
  }

  /** Checks that a broker answers (the clients connect on first use). */
  async connect(): Promise<void> {
    try {
      await this.admin.metadata({ topics: [] });
    } catch (err) {
      throw kafkaError(err);
    }
  }

  /** Creates the topics that do not exist yet, all in one request (a consumer listing topics sees them together). */
  async ensureTopics(topics: string[]): Promise<void> {
    const unknown = [...new Set(topics)].filter((t) => !this.known.has(t));
    if (unknown.length === 0) return;
    try {
      const existing = new Set(await this.admin.listTopics());
      const missing = unknown.filter((t) => !existing.has(t));
      if (missing.length > 0) {
        await this.admin.createTopics({
          topics: missing, partitions: this.opts.partitions, replicas: this.opts.replicationFactor,
          configs: Object.entries({ 'max.message.bytes': String(this.opts.maxMessageBytes), ...this.opts.topicConfig }).map(([name, value]) => ({ name, value })),
        }).catch((err: unknown) => { if (!alreadyExists(err)) throw err; }); // another instance was first
      }
    } catch (err) {
      throw kafkaError(err);
    }
    for (const t of unknown) this.known.add(t);
  }

  /** Sends and waits until the broker has every message (acks=all). */
  async send(messages: OutMessage[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      const out = [];
      for (const m of messages) {
        if (!m.everyPartition) out.push({ topic: m.topic, key: m.key, value: m.value });
        else for (let partition = 0; partition < await this.partitionsOf(m.topic); partition++) out.push({ topic: m.topic, key: m.key, value: m.value, partition });
      }
      await this.producer.send({ messages: out });
    } catch (err) {
      // a topic deleted under us: after the reconnect that follows, register() checks and creates it again
      for (const m of messages) this.known.delete(m.topic);
      throw kafkaError(err);
    }
  }

  private async partitionsOf(topic: string): Promise<number> {
    let n = this.partitionCounts.get(topic);
    if (n === undefined) {
      n = (await this.admin.metadata({ topics: [topic] })).topics.get(topic)?.partitionsCount ?? 1;
      this.partitionCounts.set(topic, n);
    }
    return n;
  }

  async disconnect(): Promise<void> {
    await this.producer.close().catch(() => undefined);
    await this.admin.close().catch(() => undefined);
  }
}
