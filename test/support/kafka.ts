// Reading topics back in tests: every message decoded through the registry (Confluent wire format).
import '../../runtime/kafka-compression.ts'; // the codecs the connector writes with
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import { SchemaRegistry, decodeWire } from '../../schemas/src/registry.ts';
import { stack } from './stack.ts';
import { sleep } from './wait.ts';

/** A Kafka client on the local stack, library logging off: the one way tests make one. */
export function testKafka(clientId = 'tracelake-test'): Kafka {
  return new Kafka({ clientId, brokers: stack().kafkaBrokers, logLevel: logLevel.NOTHING });
}

/** Runs `fn` with a connected admin client, disconnected after. */
export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export interface DecodedMessage {
  partition: number;
  offset: string;
  key: Record<string, unknown> | null;
  value: Record<string, unknown> | null;
  keySchemaId: number | null;
  valueSchemaId: number | null;
}

/**
 * Reads `topic` from the beginning until `until(messages)` is true (then `settleMs` longer, to catch
 * anything extra such as duplicates) or `timeoutMs` passes.
 */
export async function readTopic(
  topic: string, until: (msgs: DecodedMessage[]) => boolean, timeoutMs = 30_000, settleMs = 0,
): Promise<DecodedMessage[]> {
  const registry = new SchemaRegistry(stack().registryUrl);
  const out: DecodedMessage[] = [];
  await consumeFromStart(topic, async (partition, message) => {
    const k = message.key ? await decodeWire(registry, message.key) : null;
    const v = message.value ? await decodeWire(registry, message.value) : null;
    out.push({
      partition, offset: message.offset,
      key: k ? (plain(k.value) as Record<string, unknown>) : null,
      value: v ? (plain(v.value) as Record<string, unknown>) : null,
      keySchemaId: k?.id ?? null, valueSchemaId: v?.id ?? null,
    });
    return until(out);
  }, timeoutMs, settleMs);
  return out;
}

/** The raw values of `topic` (no registry decoding), read from the beginning until `count` are there or `timeoutMs` passes. */
export async function readRawValues(topic: string, count: number, timeoutMs = 30_000): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await consumeFromStart(topic, async (_, message) => {
    if (message.value) out.push(message.value);
    return out.length >= count;
  }, timeoutMs, 0);
  return out;
}

/**
 * Hands every message of `topic`, from the beginning, to `take` until it returns true (then `settleMs` longer)
 * or `timeoutMs` passes. Waits for the topic first: the connector creates it with the table's first event.
 */
async function consumeFromStart(
  topic: string, take: (partition: number, message: KafkaMessage) => Promise<boolean>, timeoutMs: number, settleMs: number,
): Promise<void> {
  const kafka = testKafka('tracelake-test-reader');
  const admin = kafka.admin();
  await admin.connect();
  for (const end = Date.now() + timeoutMs; !(await admin.listTopics()).includes(topic);) {
    if (Date.now() > end) break;
    await sleep(100);
  }
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `test-reader-${process.pid}-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => resolve(), timeoutMs);
      consumer.run({
        eachMessage: async ({ partition, message }) => {
          if (await take(partition, message)) {
            clearTimeout(timer);
            setTimeout(resolve, settleMs);
          }
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}

/** avsc records are class instances; tests compare plain objects. */
function plain(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(plain);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}
