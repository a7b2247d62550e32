// The packed form in which row changes travel from the replication stream to the encoder: one growing
// buffer of items in WAL order, handed over whole (transferred to the worker thread, not copied). Pure.
//
//   BEGIN     u8 1 · final LSN u64 · xid u32 · commit time (µs since 1970) i64
//   CHANGE    u8 2 · table ref i32 · WAL LSN u64 · length u32 · the pgoutput INSERT / UPDATE / DELETE message
//   TRUNCATE  u8 3 · table ref i32 · WAL LSN u64          (one item per truncated table)
//
// A table ref names a table definition the encoder was given before (see event-encoder.ts).

export const BEGIN = 1;
export const CHANGE = 2;
export const TRUNCATE = 3;

export type ChangeItem =
  | { kind: typeof BEGIN; finalLsn: bigint; xid: number; commitTimeUs: bigint }
  | { kind: typeof CHANGE; ref: number; walLsn: bigint; message: Buffer }
  | { kind: typeof TRUNCATE; ref: number; walLsn: bigint };

export class ChangeItemsWriter {
  private buf: Buffer;
  private pos = 0;
  /** items written */
  count = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes); // not zero-filled: only the first `pos` bytes are read
  }

  get bytes(): number {
    return this.pos;
  }

  begin(finalLsn: bigint, xid: number, commitTimeUs: bigint): void {
    this.room(21);
    this.buf.writeUInt8(BEGIN, this.pos);
    this.buf.writeBigUInt64BE(finalLsn, this.pos + 1);
    this.buf.writeUInt32BE(xid, this.pos + 9);
    this.buf.writeBigInt64BE(commitTimeUs, this.pos + 13);
    this.pos += 21;
    this.count++;
  }

  change(ref: number, walLsn: bigint, message: Buffer): void {
    this.room(17 + message.length);
    this.header(CHANGE, ref, walLsn);
    this.buf.writeUInt32BE(message.length, this.pos);
    message.copy(this.buf, this.pos + 4);
    this.pos += 4 + message.length;
    this.count++;
  }

  truncate(ref: number, walLsn: bigint): void {
    this.room(13);
    this.header(TRUNCATE, ref, walLsn);
    this.count++;
  }

  /**
   * The items written so far: the first `length` bytes of `items`. The writer starts over in a new buffer of the
   * size this one grew to (up to 1 MB: one huge row does not make every later buffer huge).
   */
  take(): { items: ArrayBuffer; length: number; count: number } {
    const taken = { items: this.buf.buffer as ArrayBuffer, length: this.pos, count: this.count };
    this.buf = Buffer.allocUnsafeSlow(Math.min(this.buf.length, 1 << 20));
    this.pos = 0;
    this.count = 0;
    return taken;
  }

  private header(kind: number, ref: number, walLsn: bigint): void {
    this.buf.writeUInt8(kind, this.pos);
    this.buf.writeInt32BE(ref, this.pos + 1);
    this.buf.writeBigUInt64BE(walLsn, this.pos + 5);
    this.pos += 13;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

/** The items of a packed buffer (its first `length` bytes), in order. */
export function* readChangeItems(items: ArrayBuffer, length: number): Generator<ChangeItem> {
  const buf = Buffer.from(items, 0, length);
  let pos = 0;
  while (pos < buf.length) {
    const kind = buf.readUInt8(pos);
    if (kind === BEGIN) {
      yield { kind, finalLsn: buf.readBigUInt64BE(pos + 1), xid: buf.readUInt32BE(pos + 9), commitTimeUs: buf.readBigInt64BE(pos + 13) };
      pos += 21;
      continue;
    }
    const ref = buf.readInt32BE(pos + 1);
    const walLsn = buf.readBigUInt64BE(pos + 5);
    pos += 13;
    if (kind === TRUNCATE) {
      yield { kind, ref, walLsn };
    } else if (kind === CHANGE) {
      const length = buf.readUInt32BE(pos);
      yield { kind, ref, walLsn, message: buf.subarray(pos + 4, pos + 4 + length) };
      pos += 4 + length;
    } else {
      throw new Error(`corrupt change items: kind ${kind} at offset ${pos - 13}`);
    }
  }
}
