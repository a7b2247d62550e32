// Records the sink cannot apply — a value it cannot decode, a row the warehouse refuses — go to the dead-letter
// topic (errors.tolerance all) with Kafka Connect's error headers, so they are found and replayed by hand. The
// topic is created like the connector's change topics (a record as large as the largest change fits), and the
// records are compressed as the connector's are.
import { Admin, Producer, ProduceAcks } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { SinkConfig } from './config.ts';
import type { SinkMetrics } from './metrics.ts';
import { kafkaOptions } from '../../runtime/kafka.ts';
import { alreadyExists, kafkaError } from '../../runtime/kafka-errors.ts';

export interface DeadLetterSource {
  topic: string;
  partition: number;
  offset: string;
  raw: { key: Buffer | null; value: Buffer | null };
}

/** max.message.bytes of a dead-letter topic the sink creates: as the connector's change topics. */
const MAX_MESSAGE_BYTES = 96 << 20;

export class DeadLetterQueue {
  private readonly cfg: SinkConfig['kafka'];
  private readonly producer: Producer<Buffer | null, Buffer | null, string, string>;
  private readonly topic: string;
  private readonly log: Logger;
  private readonly metrics: SinkMetrics | undefined;
  /** records sent since the start */
  sent = 0;

  constructor(cfg: SinkConfig['kafka'], topic: string, log: Logger, metrics?: SinkMetrics) {
    this.cfg = cfg;
    this.producer = new Producer<Buffer | null, Buffer | null, string, string>({
      ...kafkaOptions(cfg, 'tracelake-sink-dlq'), acks: ProduceAcks.ALL, idempotent: true, compression: 'zstd',
      serializers: { headerKey: (k?: string) => (k === undefined ? undefined : Buffer.from(k)), headerValue: (v?: string) => (v === undefined ? undefined : Buffer.from(v)) },
    });
    this.topic = topic;
    this.log = log;
    this.metrics = metrics;
  }

  /** Creates the topic when it does not exist (sized for the largest change record). */
  async connect(): Promise<void> {
    const admin = new Admin(kafkaOptions(this.cfg, 'tracelake-sink-dlq'));
    try {
      if (!(await admin.listTopics()).includes(this.topic)) {
        await admin.createTopics({ topics: [this.topic], partitions: 1, configs: [{ name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) }] })
          .catch((err: unknown) => { if (!alreadyExists(err)) throw err; });
      }
    } catch (err) {
      throw kafkaError(err, `creating the dead-letter topic ${this.topic}`);
    } finally {
      await admin.close().catch(() => undefined);
    }
  }

  /** Sends a record with the stage that failed (VALUE_CONVERTER, TASK_PUT) and the error. */
  async send(from: DeadLetterSource, stage: string, err: Error & { code?: string }): Promise<void> {
    await this.producer.send({
      messages: [{
        topic: this.topic, key: from.raw.key, value: from.raw.value,
        headers: {
          '__connect.errors.topic': from.topic, '__connect.errors.partition': String(from.partition), '__connect.errors.offset': from.offset,
          '__connect.errors.connector.name': 'tracelake-sink', '__connect.errors.stage': stage,
          '__connect.errors.exception.class.name': err.code ?? err.name, '__connect.errors.exception.message': err.message,
        },
      }],
    });
    this.sent++;
    this.metrics?.deadLettered.inc();
    this.log.warn({ topic: from.topic, partition: from.partition, offset: from.offset, stage, code: err.code }, 'record sent to the dead-letter topic');
  }

  async close(): Promise<void> {
    await this.producer.close().catch(() => undefined);
  }
}
