// Kafka side of the connector: an idempotent kafkajs producer (acks=all) and topic creation.
import type { Admin, ITopicConfig, Kafka, Producer } from 'kafkajs';
import { kafkaClient, type KafkaConnection } from '../../runtime/kafka.ts';
import { compressionType, type Compression } from '../../runtime/kafka-compression.ts';
import { kafkaError } from '../../runtime/kafka-errors.ts';
import { keyHashPartitioner } from './partitioner.ts';

export interface OutMessage {
  topic: string;
  key: Buffer | null;
  /** null = tombstone */
  value: Buffer | null;
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
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly known = new Set<string>();

  constructor(opts: PublisherOptions) {
    this.opts = opts;
    // few client retries (~2 s): a longer outage is handled by the connector, which reconnects the stream
    // from the slot's confirmed position (nothing unacknowledged is lost) and re-checks every topic
    this.kafka = kafkaClient(opts.connection, opts.clientId, { retry: { retries: 3 } });
    // idempotent: acks=all and ordered retries without duplicates within a producer session
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: keyHashPartitioner });
    this.admin = this.kafka.admin();
  }

  async connect(): Promise<void> {
    try {
      await this.admin.connect();
      await this.producer.connect();
    } catch (err) {
      throw kafkaError(err);
    }
  }

  async ensureTopic(topic: string): Promise<void> {
    await this.ensureTopics([topic]);
  }

  /** Creates the topics that do not exist yet, all in one request (a consumer listing topics sees them together). */
  async ensureTopics(topics: string[]): Promise<void> {
    const unknown = [...new Set(topics)].filter((t) => !this.known.has(t));
    if (unknown.length === 0) return;
    try {
      const existing = new Set(await this.admin.listTopics());
      const specs: ITopicConfig[] = unknown.filter((t) => !existing.has(t)).map((topic) => ({
        topic, numPartitions: this.opts.partitions, replicationFactor: this.opts.replicationFactor,
        configEntries: Object.entries({ 'max.message.bytes': String(this.opts.maxMessageBytes), ...this.opts.topicConfig }).map(([name, value]) => ({ name, value })),
      }));
      if (specs.length > 0) await this.admin.createTopics({ topics: specs, waitForLeaders: true });
    } catch (err) {
      throw kafkaError(err);
    }
    for (const t of unknown) this.known.add(t);
  }

  /** Sends and waits until the broker has every message (acks=all). */
  async send(messages: OutMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const byTopic = new Map<string, Array<{ key: Buffer | null; value: Buffer | null }>>();
    for (const m of messages) {
      let list = byTopic.get(m.topic);
      if (!list) byTopic.set(m.topic, (list = []));
      list.push({ key: m.key, value: m.value });
    }
    try {
      await this.producer.sendBatch({
        acks: -1,
        compression: compressionType(this.opts.compression),
        topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })),
      });
    } catch (err) {
      // a topic deleted under us: after the reconnect that follows, register() checks and creates it again
      for (const topic of byTopic.keys()) this.known.delete(topic);
      throw kafkaError(err);
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }
}
