// The packed form in which row changes travel from the replication stream to the encoder: one growing
// buffer of items in WAL order, handed over whole (transferred to the worker thread, not copied). Pure.
//
//   BEGIN     u8 1 · final LSN u64 · xid u32 · commit time (µs since 1970) i64
//   CHANGE    u8 2 · table ref i32 · WAL LSN u64 · length u32 · the pgoutput INSERT / UPDATE / DELETE message
//   TRUNCATE  u8 3 · table ref i32 · WAL LSN u64          (one item per truncated table)
//   ATTACHED  u8 4 · table ref i32 · WAL LSN u64 · index u32 — a large INSERT / UPDATE / DELETE that travels as
//             a buffer of its own (the index-th of the job's attached buffers), moved, not copied, into the pack
//
// A table ref names a table definition the encoder was given before (see event-encoder.ts).

export const BEGIN = 1;
export const CHANGE = 2;
export const TRUNCATE = 3;
const ATTACHED = 4;
/**
 * A row change of this many bytes or more that owns its whole ArrayBuffer (the replication stream's copy of it,
 * pgoutput.ts) is attached to the job rather than copied into the pack: a 1 MB prompt was copied twice on the
 * event loop, once off the socket and once into the pack.
 */
export const ATTACH_FROM = 64 * 1024;

export type ChangeItem =
  | { kind: typeof BEGIN; finalLsn: bigint; xid: number; commitTimeUs: bigint }
  | { kind: typeof CHANGE; ref: number; walLsn: bigint; message: Buffer }
  | { kind: typeof TRUNCATE; ref: number; walLsn: bigint };

export class ChangeItemsWriter {
  private buf: Buffer;
  private pos = 0;
  /** buffers of large row changes, moved into the job as they are (ATTACHED items) */
  private attached: ArrayBuffer[] = [];
  private attachedBytes = 0;
  /** items written */
  count = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes); // not zero-filled: only the first `pos` bytes are read
  }

  /** the job's size so far: its packed items and the row changes attached to it */
  get bytes(): number {
    return this.pos + this.attachedBytes;
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

  /** A row change; one of ATTACH_FROM bytes or more that owns its whole buffer is moved, not copied (do not use it after). */
  change(ref: number, walLsn: bigint, message: Buffer): void {
    if (message.length >= ATTACH_FROM && message.byteOffset === 0 && message.byteLength === message.buffer.byteLength) {
      this.room(17);
      this.header(ATTACHED, ref, walLsn);
      this.buf.writeUInt32BE(this.attached.length, this.pos);
      this.pos += 4;
      this.attached.push(message.buffer as ArrayBuffer);
      this.attachedBytes += message.length;
      this.count++;
      return;
    }
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
   * The items written so far: the first `length` bytes of `items`, and the buffers attached to them. The writer
   * starts over in a new buffer of the size this one grew to (up to 1 MB: one huge row does not make every later
   * buffer huge).
   */
  take(): { items: ArrayBuffer; length: number; count: number; attached: ArrayBuffer[] } {
    const taken = { items: this.buf.buffer as ArrayBuffer, length: this.pos, count: this.count, attached: this.attached };
    this.buf = Buffer.allocUnsafeSlow(Math.min(this.buf.length, 1 << 20));
    this.pos = 0;
    this.count = 0;
    this.attached = [];
    this.attachedBytes = 0;
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

/** The items of a packed buffer (its first `length` bytes) and the buffers attached to it, in order. */
export function* readChangeItems(items: ArrayBuffer, length: number, attached: ArrayBuffer[] = []): Generator<ChangeItem> {
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
    } else if (kind === ATTACHED) {
      const message = attached[buf.readUInt32BE(pos)];
      if (!message) throw new Error(`corrupt change items: no attached buffer ${buf.readUInt32BE(pos)}`);
      yield { kind: CHANGE, ref, walLsn, message: Buffer.from(message) };
      pos += 4;
    } else if (kind === CHANGE) {
      const length = buf.readUInt32BE(pos);
      yield { kind, ref, walLsn, message: buf.subarray(pos + 4, pos + 4 + length) };
      pos += 4 + length;
    } else {
      throw new Error(`corrupt change items: kind ${kind} at offset ${pos - 13}`);
    }
  }
}
