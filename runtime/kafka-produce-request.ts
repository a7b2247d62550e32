// kafkajs builds a produce request through nested encoders: each record into its own buffer, the records into
// the record batch's body, the body into the batch (after its CRC), the batch into the partition's entry, that
// into the topic's, that into the request — each a copy into a zero-filled buffer that grows by doubling. For
// ~2 KB span rows that was ~21% of the connector's main thread, plus much of its 14% garbage collection, in a
// profile of a stream (docs/benchmarks.md); and the producer holds its broker lock while it encodes, so the time
// also stands between one request and the next. kafkajs has no hook for it; as with its CRC-32C
// (kafka-crc32c.ts), its CommonJS module gets a version that measures the request first and writes it into one
// buffer of its exact size, each key and value copied once — for uncompressed requests whose messages have
// Buffer (or null) keys and values, no headers and numeric (or no) timestamps, which is every request the
// connector sends; any other request is left to kafkajs' own. It is used only once both have encoded sample
// requests to the same bytes (kafkajs-swap.ts). The request's framing (size, API key, correlation id, client id)
// gets the same treatment: one allocation instead of two doubling encoders. Import this before kafkajs loads.
import { createRequire } from 'node:module';
import { swapKafkajsFunction } from './kafkajs-swap.ts';
import { bytesOrNull, encoded, isInt32, noHeaders, recordBodySize, uvarintSize, writeRecord, zigzag, type Encoded } from './kafka-wire.ts';

const require = createRequire(import.meta.url);

interface Message { key?: unknown; value?: unknown; headers?: Record<string, unknown>; timestamp?: unknown }
interface PartitionData { partition: number; firstSequence?: number; messages: Message[] }
interface TopicData { topic: string; partitions: PartitionData[] }
interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: TopicData[];
}
interface ProduceRequest { apiKey: number; apiVersion: number; apiName: string; expectResponse: () => boolean; encode: () => Promise<Encoded> }
type ProduceFactory = (args: ProduceArgs) => ProduceRequest;
type Framing = (args: { correlationId: number; clientId: string | null; request: { apiKey: number; apiVersion: number; encode: () => Promise<Encoded> } }) => Promise<Encoded>;

interface KafkajsLong { getHighBits(): number; getLowBits(): number }
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: unknown): KafkajsLong; fromInt(v: number): KafkajsLong };
const crc32C = (): ((b: Buffer) => number) => require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;

const MAGIC_BYTE = 2;
const TRANSACTIONAL = 16;
const NO_COMPRESSION = 0;
/** attributes … first sequence, then the record count */
const BATCH_BODY_HEADER = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** partition leader epoch, magic byte, CRC */
const BATCH_HEADER = 4 + 1 + 4;
/** first offset (int64) and the batch's length (int32), as kafkajs writes a record batch */
const BATCH_PREFIX = 8 + 4;

function writeInt64(buf: Buffer, pos: number, value: unknown): number {
  const long = Long.fromValue(value);
  buf.writeInt32BE(long.getHighBits(), pos);
  buf.writeInt32BE(long.getLowBits(), pos + 4);
  return pos + 8;
}

/** Whether a request is one this encoder writes; anything else goes to kafkajs' own. */
function fits(args: ProduceArgs): boolean {
  if ((args.compression ?? NO_COMPRESSION) !== NO_COMPRESSION) return false;
  if (args.transactionalId != null && typeof args.transactionalId !== 'string') return false;
  if (!isInt32(args.acks) || !isInt32(args.timeout) || !isInt32(args.producerEpoch ?? 0)) return false;
  for (const { topic, partitions } of args.topicData) {
    if (typeof topic !== 'string') return false;
    for (const { partition, firstSequence, messages } of partitions) {
      if (!isInt32(partition) || !isInt32(firstSequence ?? 0)) return false;
      for (const m of messages) {
        if (!bytesOrNull(m.key) || !bytesOrNull(m.value) || !noHeaders(m.headers)) return false;
        if (m.timestamp != null && typeof m.timestamp !== 'number') return false;
      }
    }
  }
  return true;
}

/** A partition's record batch, measured: its timestamps (as kafkajs chooses them) and each record's body size. */
interface BatchPlan { firstTimestamp: number; maxTimestamp: number; deltas: number[] | null; bodies: Int32Array; bytes: number }

function planBatch(messages: Message[]): BatchPlan | null {
  // kafkajs' choice, kept as is (its sort compares the timestamps as strings)
  const dateNow = Date.now();
  let deltas: number[] | null = null;
  let firstTimestamp = dateNow;
  let maxTimestamp = dateNow;
  if (messages.some((m) => m.timestamp != null)) {
    const timestamps = messages.map((m) => m.timestamp as number | null | undefined).filter((t) => t != null).sort();
    firstTimestamp = timestamps[0]!;
    maxTimestamp = timestamps[timestamps.length - 1]!;
    deltas = messages.map((m) => ((m.timestamp as number) || dateNow) - firstTimestamp);
    if (!deltas.every(isInt32)) return null;
  }
  const bodies = new Int32Array(messages.length);
  let bytes = BATCH_PREFIX + BATCH_HEADER + BATCH_BODY_HEADER;
  for (let i = 0; i < messages.length; i++) {
    const { key, value } = messages[i]! as { key?: Buffer | null; value?: Buffer | null };
    const body = recordBodySize(deltas ? deltas[i]! : 0, i, key, value);
    bodies[i] = body;
    bytes += uvarintSize(zigzag(body)) + body;
  }
  return { firstTimestamp, maxTimestamp, deltas, bodies, bytes };
}

/** The produce request's body (v3–v7 share it), as kafkajs' own writes it; null when a timestamp does not fit. */
function encodeProduce(args: ProduceArgs): Encoded | null {
  const { acks, timeout, transactionalId = null, producerId = Long.fromInt(-1), producerEpoch = 0, topicData } = args;
  const transactionalIdLength = transactionalId == null ? -1 : Buffer.byteLength(transactionalId, 'utf8');
  let size = 2 + Math.max(0, transactionalIdLength) + 2 + 4 + 4;
  const plans: BatchPlan[][] = [];
  for (const { topic, partitions } of topicData) {
    size += 2 + Buffer.byteLength(topic, 'utf8') + 4;
    const topicPlans: BatchPlan[] = [];
    for (const { messages } of partitions) {
      const plan = planBatch(messages);
      if (!plan) return null;
      topicPlans.push(plan);
      size += 4 + 4 + plan.bytes;
    }
    plans.push(topicPlans);
  }
  const crc = crc32C();
  const attributes = NO_COMPRESSION | (transactionalId ? TRANSACTIONAL : 0);
  const buf = Buffer.allocUnsafe(size); // every byte is written below
  let pos = buf.writeInt16BE(transactionalIdLength, 0);
  if (transactionalIdLength > 0) pos += buf.write(transactionalId!, pos, 'utf8');
  pos = buf.writeInt16BE(acks, pos);
  pos = buf.writeInt32BE(timeout, pos);
  pos = buf.writeInt32BE(topicData.length, pos);
  topicData.forEach(({ topic, partitions }, t) => {
    pos = buf.writeInt16BE(Buffer.byteLength(topic, 'utf8'), pos);
    pos += buf.write(topic, pos, 'utf8');
    pos = buf.writeInt32BE(partitions.length, pos);
    partitions.forEach(({ partition, firstSequence = 0, messages }, p) => {
      const plan = plans[t]![p]!;
      const batchLength = plan.bytes - BATCH_PREFIX;
      pos = buf.writeInt32BE(partition, pos);
      pos = buf.writeInt32BE(plan.bytes, pos);
      pos = buf.writeInt32BE(0, buf.writeInt32BE(0, pos)); // first offset
      pos = buf.writeInt32BE(batchLength, pos);
      pos = buf.writeInt32BE(0, pos); // partition leader epoch
      pos = buf.writeInt8(MAGIC_BYTE, pos);
      const crcAt = pos;
      const bodyStart = (pos += 4);
      pos = buf.writeInt16BE(attributes, pos);
      pos = buf.writeInt32BE(messages.length - 1, pos); // last offset delta
      pos = writeInt64(buf, pos, plan.firstTimestamp);
      pos = writeInt64(buf, pos, plan.maxTimestamp);
      pos = writeInt64(buf, pos, producerId);
      pos = buf.writeInt16BE(producerEpoch, pos);
      pos = buf.writeInt32BE(firstSequence, pos);
      pos = buf.writeInt32BE(messages.length, pos);
      for (let i = 0; i < messages.length; i++) {
        const { key, value } = messages[i]! as { key?: Buffer | null; value?: Buffer | null };
        pos = writeRecord(buf, pos, plan.bodies[i]!, plan.deltas ? plan.deltas[i]! : 0, i, key, value);
      }
      buf.writeUInt32BE(crc(buf.subarray(bodyStart, pos)), crcAt);
    });
  });
  if (pos !== size) throw new Error(`produce request measured ${size} bytes, wrote ${pos}`);
  return encoded(buf, size);
}

const oneBuffer = (own: ProduceFactory): ProduceFactory => (args) => {
  const request = own(args);
  if (!fits(args)) return request;
  return { ...request, encode: async () => encodeProduce(args) ?? request.encode() };
};

/** The request's framing — size, API key and version, correlation id, client id, then the body — in one buffer. */
const oneFrame: Framing = async ({ correlationId, clientId, request: { apiKey, apiVersion, encode } }) => {
  const payload = await encode();
  if (payload == null || !Buffer.isBuffer(payload.buf)) throw new Error('value should be an instance of Encoder');
  const clientIdLength = clientId == null ? -1 : Buffer.byteLength(clientId, 'utf8');
  const size = 2 + 2 + 4 + 2 + Math.max(0, clientIdLength) + payload.offset;
  const buf = Buffer.allocUnsafe(4 + size); // every byte is written below
  let pos = buf.writeInt32BE(size, 0);
  pos = buf.writeInt16BE(apiKey, pos);
  pos = buf.writeInt16BE(apiVersion, pos);
  pos = buf.writeInt32BE(correlationId, pos);
  pos = buf.writeInt16BE(clientIdLength, pos);
  if (clientIdLength > 0) pos += buf.write(clientId!, pos, 'utf8');
  payload.buf.copy(buf, pos, 0, payload.offset);
  return encoded(buf, 4 + size);
};

const message = (i: number, extra: Partial<Message> = {}): Message => ({
  key: i % 9 === 0 ? null : Buffer.alloc(i % 40, i),
  value: i % 13 === 0 ? null : Buffer.alloc([0, 1, 63, 64, 300, 8191, 8192, 20_000][i % 8]!, i & 0xff),
  ...extra,
});
/** sample requests: explicit timestamps keep kafkajs' own deterministic (without them it reads the clock) */
const sampleRequests: ProduceArgs[] = [
  {
    acks: -1,
    timeout: 30_000,
    producerId: Long.fromValue(4_000_000_123),
    producerEpoch: 3,
    topicData: [
      { topic: 'tracelake.public.spans', partitions: [0, 1, 2].map((p) => ({ partition: p, firstSequence: p * 70_000, messages: Array.from({ length: 40 + p }, (_, i) => message(i + p, { timestamp: 1_700_000_000_000 + ((i * 37) % 11) * 1000 })) })) },
      { topic: 'tracelake.public.ünïcode', partitions: [{ partition: 7, messages: [message(1, { timestamp: 1_700_000_000_000 })] }] },
    ],
  },
  { acks: 1, timeout: 5000, transactionalId: 'tx-1', topicData: [{ topic: 't', partitions: [{ partition: 0, messages: Array.from({ length: 300 }, (_, i) => message(i, { timestamp: 99_999 + i * 3 })) }] }] },
];

/** true once kafkajs' produce requests are written in one buffer of their exact size (a promise: checked async) */
export const exactProduceRequests: Promise<boolean> = swapKafkajsFunction<ProduceFactory>(
  'kafkajs/src/protocol/requests/produce/v3/request.js',
  oneBuffer,
  async (own, ours) => {
    for (const args of sampleRequests) {
      const [a, b] = await Promise.all([own(args).encode(), ours(args).encode()]);
      if (!a.buffer.equals(b.buffer)) return false;
    }
    return true;
  },
);

/** true once kafkajs frames each request in one allocation (a promise: checked async) */
export const exactRequestFraming: Promise<boolean> = swapKafkajsFunction<Framing>(
  'kafkajs/src/protocol/request.js',
  () => oneFrame,
  async (own, ours) => {
    for (const [clientId, bytes] of [['tracelake-connector', 3000], [null, 0], ['ünï', 70_000]] as const) {
      const payload = encoded(Buffer.alloc(bytes, 5), bytes);
      const request = { apiKey: 0, apiVersion: 7, encode: async () => payload };
      const [a, b] = await Promise.all([own({ correlationId: 12345, clientId, request }), ours({ correlationId: 12345, clientId, request })]);
      if (!a.buffer.equals(b.buffer)) return false;
    }
    return true;
  },
);
