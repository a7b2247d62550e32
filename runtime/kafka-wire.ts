// The pieces of Kafka's wire format the produce-request swap (kafka-produce-request.ts) writes itself: zigzag
// varints and records as the record format v2 has them, and an Encoder that holds bytes written elsewhere, which
// is all kafkajs reads of an encoded request.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder.js') as { prototype: object };

/** what kafkajs reads of an encoder: its buffer and how much of it is written */
export interface Encoded { buf: Buffer; offset: number; readonly buffer: Buffer }

/** a kafkajs Encoder holding exactly these bytes, without running its constructor (512 zeroed bytes) */
export function encoded(buf: Buffer, offset: number): Encoded {
  const encoder = Object.create(Encoder.prototype) as Encoded;
  encoder.buf = buf;
  encoder.offset = offset;
  return encoder;
}

export const zigzag = (v: number): number => ((v << 1) ^ (v >> 31)) >>> 0;

export function uvarintSize(v: number): number {
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

export const isInt32 = (v: unknown): v is number => typeof v === 'number' && (v | 0) === v;
export const bytesOrNull = (v: unknown): v is Buffer | null | undefined => v === null || v === undefined || Buffer.isBuffer(v);
export const noHeaders = (h: Record<string, unknown> | undefined): boolean => {
  if (h === undefined) return true;
  for (const _ in h) return false;
  return true;
};

/** The size of a record's body in the record format v2 (attributes … headers), for one without headers. */
export function recordBodySize(timestampDelta: number, offsetDelta: number, key: Buffer | null | undefined, value: Buffer | null | undefined): number {
  const keyLength = key == null ? -1 : key.length;
  const valueLength = value == null ? -1 : value.length;
  return 1 + uvarintSize(zigzag(timestampDelta)) + uvarintSize(zigzag(offsetDelta))
    + uvarintSize(zigzag(keyLength)) + Math.max(0, keyLength)
    + uvarintSize(zigzag(valueLength)) + Math.max(0, valueLength)
    + 1; // no headers: a varint 0
}

/** A record without headers, its length first, whose body is `body` bytes (recordBodySize); returns the end. */
export function writeRecord(buf: Buffer, pos: number, body: number, timestampDelta: number, offsetDelta: number, key: Buffer | null | undefined, value: Buffer | null | undefined): number {
  pos = writeUVarint(buf, pos, zigzag(body));
  buf[pos++] = 0; // attributes
  pos = writeUVarint(buf, pos, zigzag(timestampDelta));
  pos = writeUVarint(buf, pos, zigzag(offsetDelta));
  pos = writeUVarint(buf, pos, zigzag(key == null ? -1 : key.length));
  if (key) pos += key.copy(buf, pos);
  pos = writeUVarint(buf, pos, zigzag(value == null ? -1 : value.length));
  if (value) pos += value.copy(buf, pos);
  buf[pos++] = 0; // header count
  return pos;
}
