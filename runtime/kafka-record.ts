// kafkajs encodes each record of a produce request (Kafka's record format v2: length, attributes, timestamp
// delta, offset delta, key, value, headers) through a fresh zero-filled 512-byte encoder, one Buffer.from per
// varint and a 64-bit Long emulation for the timestamp delta: about 10% of the connector's main thread in a
// profile of a small-row stream (docs/benchmarks.md). kafkajs has no hook for it; as with its CRC-32C
// (kafka-crc32c.ts), its CommonJS record module gets a version that writes a record into one pooled buffer of
// its exact size — for records without headers whose key and value are Buffers (or null) and whose deltas are
// 32-bit integers, which is every record the connector sends; any other record is left to kafkajs' own. It is
// installed only when both encode sample records to the same bytes (kafkajs-swap.ts). Import this before kafkajs
// loads.
import { createRequire } from 'node:module';
import { swapKafkajsModule } from './kafkajs-swap.ts';

const require = createRequire(import.meta.url);

interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
}
/** what kafkajs' record batch reads of an encoded record */
interface EncodedRecord { buf: Buffer; offset: number; readonly buffer: Buffer }
type RecordEncoder = (args: RecordArgs) => EncodedRecord;

const zigzag = (v: number): number => ((v << 1) ^ (v >> 31)) >>> 0;

function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

function writeUVarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

const isInt32 = (v: unknown): v is number => typeof v === 'number' && (v | 0) === v;
const bytesOrNull = (v: unknown): v is Buffer | null | undefined => v === null || v === undefined || Buffer.isBuffer(v);
const noHeaders = (h: RecordArgs['headers']): boolean => {
  if (h === undefined) return true;
  for (const _ in h) return false;
  return true;
};

function exact(own: RecordEncoder, encoderPrototype: object): RecordEncoder {
  return (args) => {
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers } = args;
    if (!isInt32(offsetDelta) || !isInt32(timestampDelta) || !bytesOrNull(key) || !bytesOrNull(value) || !noHeaders(headers)) return own(args);
    const keyLength = key == null ? -1 : key.length;
    const valueLength = value == null ? -1 : value.length;
    const body = 1 + uvarintSize(zigzag(timestampDelta)) + uvarintSize(zigzag(offsetDelta))
      + uvarintSize(zigzag(keyLength)) + Math.max(0, keyLength)
      + uvarintSize(zigzag(valueLength)) + Math.max(0, valueLength)
      + 1; // no headers: a varint 0
    const size = uvarintSize(zigzag(body)) + body;
    const buf = Buffer.allocUnsafe(size); // pooled below 4 KB; every byte is written below
    let pos = writeUVarint(buf, 0, zigzag(body));
    buf[pos++] = 0; // attributes
    pos = writeUVarint(buf, pos, zigzag(timestampDelta));
    pos = writeUVarint(buf, pos, zigzag(offsetDelta));
    pos = writeUVarint(buf, pos, zigzag(keyLength));
    if (key) pos += key.copy(buf, pos);
    pos = writeUVarint(buf, pos, zigzag(valueLength));
    if (value) pos += value.copy(buf, pos);
    buf[pos] = 0; // header count
    // an encoder holding exactly the record, without running its constructor (which allocates 512 zeroed bytes)
    const encoder = Object.create(encoderPrototype) as EncodedRecord;
    encoder.buf = buf;
    encoder.offset = size;
    return encoder;
  };
}

const samples: RecordArgs[] = [
  { offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k'), value: Buffer.from('v') },
  { offsetDelta: 300, timestampDelta: 70_000, key: null, value: Buffer.alloc(20_000, 7) },
  { offsetDelta: 5, timestampDelta: -3, key: Buffer.alloc(200, 1), value: null },
  { offsetDelta: 1, timestampDelta: 2 ** 40, key: Buffer.from('k'), value: Buffer.from('v') }, // kafkajs' own
  { offsetDelta: 2, key: Buffer.from('k'), value: Buffer.from('v'), headers: { h: 'x' } }, // kafkajs' own
];

/** true when kafkajs' records are encoded in one exact-size buffer */
export const exactRecords: boolean = swapKafkajsModule<RecordEncoder>(
  'kafkajs/src/protocol/recordBatch/record/v0/index.js',
  (own) => exact(own, (require('kafkajs/src/protocol/encoder.js') as { prototype: object }).prototype),
  (own, ours) => samples.every((s) => ours(s).buffer.equals(own(s).buffer)),
);
