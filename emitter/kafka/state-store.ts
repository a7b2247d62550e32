// The connector's own state (which snapshot finished, at which LSN) in a compacted Kafka topic, keyed by
// slot name: the place Kafka Connect keeps source offsets. The slot itself is the streaming position.
import type { Admin, Kafka, Producer } from 'kafkajs';
import { kafkaClient, type KafkaConnection } from '../../runtime/kafka.ts';
import { kafkaError } from '../../runtime/kafka-errors.ts';

export interface ConnectorState {
  /** the slot's consistent point the finished snapshot was read at */
  snapshotLsn: string;
  snapshotCompletedAt: string;
  tables: string[];
}

export class StateStore {
  private readonly kafka: Kafka;
  private readonly topic: string;
  private admin: Admin | undefined;
  private producer: Producer | undefined;

  constructor(connection: KafkaConnection, topic: string) {
    this.kafka = kafkaClient(connection, 'tracelake-state');
    this.topic = topic;
  }

  private async ensureTopic(): Promise<void> {
    this.admin ??= this.kafka.admin();
    await this.admin.connect();
    if (!(await this.admin.listTopics()).includes(this.topic)) {
      await this.admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: this.topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      }).catch((err: { type?: string }) => { if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err; });
    }
  }

  /** The latest state stored for `key`, or undefined. Reads the topic to its end. */
  read(key: string): Promise<ConnectorState | undefined> {
    return asKafkaError(this.readLatest(key), this.topic);
  }

  private async readLatest(key: string): Promise<ConnectorState | undefined> {
    await this.ensureTopic();
    const ends = await this.admin!.fetchTopicOffsets(this.topic);
    const end = BigInt(ends[0]?.high ?? '0');
    const start = BigInt(ends[0]?.low ?? '0');
    if (end === start) return undefined;
    const consumer = this.kafka.consumer({ groupId: `tracelake-state-reader-${process.pid}-${Date.now()}` });
    let latest: ConnectorState | undefined;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: this.topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer.run({
          autoCommit: false, // a throw-away reader (GET /offsets calls it too): leave no offsets, so its group vanishes
          eachMessage: async ({ message }) => {
            if (message.key?.toString() === key) latest = message.value ? (JSON.parse(message.value.toString()) as ConnectorState) : undefined;
            if (BigInt(message.offset) + 1n >= end) resolve();
          },
        }).catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    return latest;
  }

  write(key: string, state: ConnectorState | null): Promise<void> {
    return asKafkaError(this.store(key, state), this.topic);
  }

  private async store(key: string, state: ConnectorState | null): Promise<void> {
    await this.ensureTopic();
    if (!this.producer) {
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await this.producer.connect();
    }
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key, value: state ? JSON.stringify(state) : null }] });
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }
}

/** The state topic's kafkajs failures reported as the publisher's are (kafka-error.ts). */
async function asKafkaError<T>(p: Promise<T>, topic: string): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw kafkaError(err, `Kafka request for the connector state (topic ${topic})`);
  }
}
