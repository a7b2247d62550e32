// Records the sink cannot apply — a value it cannot decode, a row the warehouse refuses — go to the dead-letter
// topic (errors.tolerance all) with Kafka Connect's error headers, so they are found and replayed by hand.
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { SinkMetrics } from './metrics.ts';

export interface DeadLetterSource {
  topic: string;
  partition: number;
  offset: string;
  raw: { key: Buffer | null; value: Buffer | null };
}

export class DeadLetterQueue {
  private readonly producer: Producer;
  private readonly topic: string;
  private readonly log: Logger;
  private readonly metrics: SinkMetrics | undefined;
  /** records sent since the start */
  sent = 0;

  constructor(kafka: Kafka, topic: string, log: Logger, metrics?: SinkMetrics) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.topic = topic;
    this.log = log;
    this.metrics = metrics;
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /** Sends a record with the stage that failed (VALUE_CONVERTER, TASK_PUT) and the error. */
  async send(from: DeadLetterSource, stage: string, err: Error & { code?: string }): Promise<void> {
    await this.producer.send({
      topic: this.topic, acks: -1,
      messages: [{
        key: from.raw.key, value: from.raw.value,
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
    await this.producer.disconnect().catch(() => undefined);
  }
}
