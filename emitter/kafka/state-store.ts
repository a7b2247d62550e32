// The connector's own state (which snapshot finished, at which LSN) in a compacted Kafka topic, keyed by
// slot name: the place Kafka Connect keeps source offsets. The slot itself is the streaming position.
import { Admin, Consumer, MessagesStreamModes, Producer, ProduceAcks, stringDeserializers, stringSerializer, type BaseOptions } from '@platformatic/kafka';
import { kafkaOptions, type KafkaConnection } from '../../runtime/kafka.ts';
import { alreadyExists, kafkaError } from '../../runtime/kafka-errors.ts';

export interface ConnectorState {
  /** the slot's consistent point the finished snapshot was read at */
  snapshotLsn: string;
  snapshotCompletedAt: string;
  tables: string[];
}

/** A source's state, stored as JSON under a key of its own (the Postgres source: its slot name). */
export class StateStore<S = ConnectorState> {
  private readonly base: BaseOptions;
  private readonly topic: string;
  private admin: Admin | undefined;
  private producer: Producer<string, string | null> | undefined;

  constructor(connection: KafkaConnection, topic: string) {
    this.base = kafkaOptions(connection, 'tracelake-state');
    this.topic = topic;
  }

  private async ensureTopic(): Promise<Admin> {
    this.admin ??= new Admin(this.base);
    if (!(await this.admin.listTopics()).includes(this.topic)) {
      await this.admin.createTopics({ topics: [this.topic], partitions: 1, configs: [{ name: 'cleanup.policy', value: 'compact' }] })
        .catch((err: unknown) => { if (!alreadyExists(err)) throw err; });
    }
    return this.admin;
  }

  /** The latest state stored for `key`, or undefined. Reads the topic to its end. */
  read(key: string): Promise<S | undefined> {
    return asKafkaError(this.readLatest(key), this.topic);
  }

  private async readLatest(key: string): Promise<S | undefined> {
    const admin = await this.ensureTopic();
    const [partition] = (await admin.listOffsets({ topics: [{ name: this.topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] }))[0]?.partitions ?? [];
    const end = partition?.offset ?? 0n;
    if (end === 0n) return undefined;
    // a throw-away reader (GET /offsets calls it too): it commits nothing, so its group leaves no offsets behind
    const consumer = new Consumer<string, string, string, string>({ ...this.base, groupId: `tracelake-state-reader-${process.pid}-${Date.now()}`, deserializers: stringDeserializers });
    let latest: S | undefined;
    try {
      const stream = await consumer.consume({ topics: [this.topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
      for await (const message of stream) {
        if (message.key === key) latest = message.value ? (JSON.parse(message.value) as S) : undefined;
        if (message.offset + 1n >= end) break;
      }
      await stream.close();
    } finally {
      await consumer.close(true).catch(() => undefined);
    }
    return latest;
  }

  write(key: string, state: S | null): Promise<void> {
    return asKafkaError(this.store(key, state), this.topic);
  }

  private async store(key: string, state: S | null): Promise<void> {
    await this.ensureTopic();
    this.producer ??= new Producer<string, string | null>({ ...this.base, acks: ProduceAcks.ALL, idempotent: true, serializers: { key: stringSerializer, value: nullableString } });
    await this.producer.send({ messages: [{ topic: this.topic, key, value: state ? JSON.stringify(state) : null }] });
  }

  async close(): Promise<void> {
    await this.producer?.close().catch(() => undefined);
    await this.admin?.close().catch(() => undefined);
  }
}

/** A null value stays null (a tombstone: the state was reset). */
const nullableString = (v: string | null | undefined): Buffer | undefined => (v == null ? (null as unknown as undefined) : Buffer.from(v));

/** The state topic's client failures reported as the publisher's are (runtime/kafka-errors.ts). */
async function asKafkaError<T>(p: Promise<T>, topic: string): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw kafkaError(err, `Kafka request for the connector state (topic ${topic})`);
  }
}
