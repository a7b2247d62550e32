// Kafka in tests, with the services' client (@platformatic/kafka): clients on the local stack, and topics read
// back with every message decoded through the registry (Confluent wire format).
import { Admin, Consumer, MessagesStreamModes, Producer, ProduceAcks, type BaseOptions, type Message } from '@platformatic/kafka';
import { SchemaRegistry, decodeWire } from '../../schemas/src/registry.ts';
import { stack, stackHome } from './stack.ts';
import { sleep } from './wait.ts';
import { readdirSync, readFileSync } from 'node:fs';

/** The options of a client on the local stack: the one way tests make one. */
export function testKafka(clientId = 'tracelake-test'): BaseOptions {
  return { clientId, bootstrapBrokers: stack().kafkaBrokers };
}

/** Runs `fn` with an admin client, closed after. */
export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin(testKafka());
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

/** Sends raw records (acks=all), e.g. records the connector would never write. */
export async function produceRaw(messages: Array<{ topic: string; key?: Buffer | null; value: Buffer | null; partition?: number; headers?: Record<string, Buffer> }>): Promise<void> {
  const producer = new Producer<Buffer | null, Buffer | null>({ ...testKafka('tracelake-test-writer'), acks: ProduceAcks.ALL });
  try {
    await producer.send({ messages: messages.map((m) => ({ ...m, key: m.key ?? null })) });
  } finally {
    await producer.close();
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
      partition, offset: String(message.offset),
      key: k ? (plain(k.value) as Record<string, unknown>) : null,
      value: v ? (plain(v.value) as Record<string, unknown>) : null,
      keySchemaId: k?.id ?? null, valueSchemaId: v?.id ?? null,
    });
    return until(out);
  }, timeoutMs, settleMs);
  return out;
}

/** A record as it is in the topic: key, value and headers, undecoded. */
export interface RawRecord {
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** The first `count` records of `topic` as they are (no registry decoding), or fewer once `timeoutMs` passes. */
export async function readRawRecords(topic: string, count: number, timeoutMs = 30_000): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  await consumeFromStart(topic, async (partition, m) => {
    out.push({
      partition, offset: m.offset, key: m.key ?? null, value: m.value ?? null,
      headers: Object.fromEntries([...m.headers].map(([k, v]) => [k.toString(), v.toString()])),
    });
    return out.length >= count;
  }, timeoutMs, 0);
  return out;
}

/** The raw values of `topic` (no registry decoding), read from the beginning until `count` are there or `timeoutMs` passes. */
export async function readRawValues(topic: string, count: number, timeoutMs = 30_000): Promise<Buffer[]> {
  return (await readRawRecords(topic, count, timeoutMs)).flatMap((r) => (r.value ? [r.value] : []));
}

/**
 * Hands every message of `topic`, from the beginning, to `take` until it returns true (then `settleMs` longer)
 * or `timeoutMs` passes. Waits for the topic first: the connector creates it with the table's first event.
 */
async function consumeFromStart(
  topic: string, take: (partition: number, message: Message<Buffer, Buffer, Buffer, Buffer> & { offset: bigint }) => Promise<boolean>, timeoutMs: number, settleMs: number,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  await withAdmin(async (admin) => {
    while (!(await admin.listTopics()).includes(topic) && Date.now() < end) await sleep(100);
  });
  // retried patiently: a test may read right after it restarted the broker (its group coordinator loads first)
  const consumer = new Consumer({ ...testKafka('tracelake-test-reader'), groupId: `test-reader-${process.pid}-${Date.now()}-${Math.random()}`, retries: 20, retryDelay: 500 });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
    const done = (async () => {
      for await (const message of stream) {
        if (await take(message.partition, message)) {
          await sleep(settleMs);
          return;
        }
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((r) => (timer = setTimeout(r, Math.max(0, end - Date.now()))))]);
    clearTimeout(timer);
    await stream.close();
  } finally {
    await consumer.close(true);
  }
}

/** avsc records are class instances; tests compare plain objects. */
function plain(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(plain);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

/**
 * The compression codecs of the record batches the stack's broker stored for partition 0 of `topic`, read from
 * its log segments (a record batch's attributes say its codec): what producers really sent, whatever they claim.
 */
export function storedCodecs(topic: string): Set<string> {
  const dir = `${stackHome()}/kafka/data/${topic}-0`;
  const codecs = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.log'))) {
    const log = readFileSync(`${dir}/${f}`);
    // a batch: baseOffset int64, batchLength int32, leaderEpoch int32, magic int8, crc int32, attributes int16, …
    for (let at = 0; at + 23 <= log.length; at += 12 + log.readInt32BE(at + 8)) codecs.add(CODECS[log.readInt16BE(at + 21) & 7] ?? 'unknown');
  }
  return codecs;
}
