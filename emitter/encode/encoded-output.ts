// The encoded form of a job: every key and value back to back in one buffer that grows as needed, and an index
// of six int32 per message — table ref, op, key offset, key length, value offset, value length (-1: null).
// Both can be transferred between threads without a copy. Pure.
import type { Envelope, Op } from '../../schemas/src/envelope.ts';
import { writeWire, type RegisteredSchema } from '../../schemas/src/wire-format.ts';

export interface EncodedBatch {
  /** the keys and values (the buffer may be longer than what the index points at) */
  bytes: ArrayBuffer;
  index: Int32Array;
}

export const INDEX_STRIDE = 6;
/** op codes in the index; a tombstone (null value after a delete) is not an event of its own */
export const OPS = ['r', 'c', 'u', 'd', 't'] as const;
export const TOMBSTONE = -1;
/** a row past the size ceiling, dead-lettered: the value is a JSON record (row-limits.ts), not Avro */
export const DEAD_LETTER = -2;
const OP_CODE = { r: 0, c: 1, u: 2, d: 3, t: 4 } as const;

/** A table as the output needs it: its ref and its registered key and value schemas. */
export interface OutputTable {
  ref: number;
  key: RegisteredSchema;
  value: RegisteredSchema;
}

/** The job's messages, encoded back to back into one buffer that grows as needed. */
export class Output {
  private buf: Buffer;
  private pos = 0;
  private index: number[] = [];

  constructor(bytes: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(4096, bytes)); // not zero-filled: only written ranges are read
  }

  /** Writes key (unless null) and value; returns where the key is, for a tombstone that follows. */
  message(t: OutputTable, op: Op, key: Record<string, unknown> | null, value: Envelope): [number, number] {
    const [keyOff, keyLen] = key === null ? [0, -1] : this.wire(t.key, key);
    const [valueOff, valueLen] = this.wire(t.value, value);
    this.index.push(t.ref, OP_CODE[op], keyOff, keyLen, valueOff, valueLen);
    return [keyOff, keyLen];
  }

  /** A dead-lettered row: its Avro key, and the JSON record in place of a value. */
  deadLetter(t: OutputTable, key: Record<string, unknown>, record: Buffer): void {
    const [keyOff, keyLen] = this.wire(t.key, key);
    this.ensure(record.length);
    record.copy(this.buf, this.pos);
    this.index.push(t.ref, DEAD_LETTER, keyOff, keyLen, this.pos, record.length);
    this.pos += record.length;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes > this.buf.length) this.grow(this.pos + bytes);
  }

  tombstone(t: OutputTable, [keyOff, keyLen]: [number, number]): void {
    this.index.push(t.ref, TOMBSTONE, keyOff, keyLen, 0, -1);
  }

  finish(): EncodedBatch {
    return { bytes: this.buf.buffer as ArrayBuffer, index: Int32Array.from(this.index) };
  }

  private wire(schema: RegisteredSchema, value: unknown): [number, number] {
    const start = this.pos;
    let end = writeWire(schema, value, this.buf, start);
    if (end < 0) {
      this.grow(this.buf.length - end);
      end = writeWire(schema, value, this.buf, start);
    }
    this.pos = end;
    return [start, end - start];
  }

  private grow(atLeast: number): void {
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, atLeast));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

