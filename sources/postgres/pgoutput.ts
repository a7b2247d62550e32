// Decoder for pgoutput logical replication messages, protocol version 1
// (https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
//
// Pure: bytes in, plain objects out. Column values stay exactly as Postgres rendered them in text form (long
// ones as their UTF-8 bytes, a view into the message: see TEXT_AS_BYTES_FROM); type conversion happens later, in
// one place (schemas/src/pg-types.ts). An unchanged TOASTed value is
// the UNCHANGED marker (emitter/encode/change-record.ts), never undefined or null, so it cannot be mistaken for a value.
import { UNCHANGED, type Tuple } from '../../emitter/encode/change-record.ts';
import { Utf8Text } from '../../schemas/src/utf8-text.ts';

/** Microseconds between 1970-01-01 and Postgres' epoch 2000-01-01. */
const PG_EPOCH_US = 946_684_800_000_000n;

export interface RelationColumn {
  name: string;
  typeOid: number;
  typeMod: number;
  /** part of the replica identity (the primary key for REPLICA IDENTITY DEFAULT) */
  isKey: boolean;
}
export type ReplicaIdentity = 'default' | 'nothing' | 'full' | 'index';

export type PgoutputMessage =
  | { tag: 'begin'; finalLsn: bigint; commitTimeUs: bigint; xid: number }
  | { tag: 'commit'; flags: number; commitLsn: bigint; endLsn: bigint; commitTimeUs: bigint }
  | { tag: 'origin'; originLsn: bigint; name: string }
  | { tag: 'relation'; relationId: number; schema: string; table: string; replicaIdentity: ReplicaIdentity; columns: RelationColumn[] }
  | { tag: 'type'; typeOid: number; schema: string; name: string }
  | { tag: 'insert'; relationId: number; newTuple: Tuple }
  | { tag: 'update'; relationId: number; oldKind: 'key' | 'old' | null; oldTuple: Tuple | null; newTuple: Tuple }
  | { tag: 'delete'; relationId: number; oldKind: 'key' | 'old'; oldTuple: Tuple }
  | { tag: 'truncate'; cascade: boolean; restartIdentity: boolean; relationIds: number[] }
  | { tag: 'message'; transactional: boolean; lsn: bigint; prefix: string; content: Buffer }
  | { tag: 'unknown'; byte: number };

export class PgoutputDecodeError extends Error {}

class Reader {
  private pos = 0;
  private readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  u8(): number { this.need(1); return this.buf.readUInt8(this.pos++); }
  i16(): number { this.need(2); const v = this.buf.readInt16BE(this.pos); this.pos += 2; return v; }
  i32(): number { this.need(4); const v = this.buf.readInt32BE(this.pos); this.pos += 4; return v; }
  u32(): number { this.need(4); const v = this.buf.readUInt32BE(this.pos); this.pos += 4; return v; }
  u64(): bigint { this.need(8); const v = this.buf.readBigUInt64BE(this.pos); this.pos += 8; return v; }
  i64(): bigint { this.need(8); const v = this.buf.readBigInt64BE(this.pos); this.pos += 8; return v; }
  /** NUL-terminated string */
  cstr(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new PgoutputDecodeError('unterminated string');
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    this.need(n);
    // copy: the replication library reuses its receive buffers
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }
  text(n: number): string | Utf8Text {
    this.need(n);
    const v = n >= TEXT_AS_BYTES_FROM ? new Utf8Text(this.buf.subarray(this.pos, this.pos + n)) : this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new PgoutputDecodeError(`message truncated: need ${n} bytes at offset ${this.pos} of ${this.buf.length}`);
    }
  }
}

/**
 * Column text of this many bytes or more stays UTF-8 bytes (a view into the message, not a copy): most such values
 * are prompts and completions written into Avro strings as they are, so decoding them only to encode them again
 * would be wasted (on 1 MB rows it was most of the encoder thread's time). Shorter text is decoded at once: a
 * view costs about what a short string does, and most short values are numbers, times and keys that are parsed anyway.
 */
export const TEXT_AS_BYTES_FROM = 256;

const IDENTITY: Record<string, ReplicaIdentity> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };

/**
 * An INSERT, UPDATE or DELETE left undecoded (the encoder decodes it, off the event loop): its relation id and
 * a copy of its bytes. Null for any other message.
 */
export function rowChange(buf: Buffer): { relationId: number; message: Buffer } | null {
  const tag = buf[0];
  if (tag !== 0x49 && tag !== 0x55 && tag !== 0x44) return null; // I U D
  if (buf.length < 5) throw new PgoutputDecodeError(`message truncated: need 4 bytes at offset 1 of ${buf.length}`);
  // copy: the replication library reuses its receive buffers
  return { relationId: buf.readUInt32BE(1), message: copies.copy(buf) };
}

/**
 * Copies into 256 KB slabs: one allocation per ~130 span rows rather than a new 8 KB pool every four (Node's
 * Buffer.from). A slab is freed once nothing copied into it is referenced (the rows are packed for the encoder
 * soon after).
 */
class Slab {
  private static readonly BYTES = 256 * 1024;
  private buf = Buffer.allocUnsafeSlow(Slab.BYTES);
  private pos = 0;

  copy(src: Buffer): Buffer {
    // a large message gets a buffer of its own, which the pack moves to the encoder whole (change-items.ts)
    if (src.length > Slab.BYTES / 8) {
      const own = Buffer.allocUnsafeSlow(src.length);
      src.copy(own);
      return own;
    }
    if (this.pos + src.length > this.buf.length) {
      this.buf = Buffer.allocUnsafeSlow(Slab.BYTES);
      this.pos = 0;
    }
    const out = this.buf.subarray(this.pos, this.pos + src.length);
    src.copy(out);
    this.pos += src.length;
    return out;
  }
}
const copies = new Slab();

export function decodePgoutput(buf: Buffer): PgoutputMessage {
  const r = new Reader(buf);
  const tag = r.u8();
  switch (String.fromCharCode(tag)) {
    case 'B':
      return { tag: 'begin', finalLsn: r.u64(), commitTimeUs: r.i64() + PG_EPOCH_US, xid: r.u32() };
    case 'C':
      return { tag: 'commit', flags: r.u8(), commitLsn: r.u64(), endLsn: r.u64(), commitTimeUs: r.i64() + PG_EPOCH_US };
    case 'O':
      return { tag: 'origin', originLsn: r.u64(), name: r.cstr() };
    case 'R': {
      const relationId = r.u32();
      const schema = r.cstr();
      const table = r.cstr();
      const ident = String.fromCharCode(r.u8());
      const replicaIdentity = IDENTITY[ident];
      if (!replicaIdentity) throw new PgoutputDecodeError(`unknown replica identity '${ident}'`);
      const n = r.i16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.u8();
        columns.push({ isKey: (flags & 1) === 1, name: r.cstr(), typeOid: r.u32(), typeMod: r.i32() });
      }
      return { tag: 'relation', relationId, schema, table, replicaIdentity, columns };
    }
    case 'Y':
      return { tag: 'type', typeOid: r.u32(), schema: r.cstr(), name: r.cstr() };
    case 'I': {
      const relationId = r.u32();
      expect(r, 'N');
      return { tag: 'insert', relationId, newTuple: tuple(r) };
    }
    case 'U': {
      const relationId = r.u32();
      let kind = String.fromCharCode(r.u8());
      let oldKind: 'key' | 'old' | null = null;
      let oldTuple: Tuple | null = null;
      if (kind === 'K' || kind === 'O') {
        oldKind = kind === 'K' ? 'key' : 'old';
        oldTuple = tuple(r);
        kind = String.fromCharCode(r.u8());
      }
      if (kind !== 'N') throw new PgoutputDecodeError(`update: expected 'N', got '${kind}'`);
      return { tag: 'update', relationId, oldKind, oldTuple, newTuple: tuple(r) };
    }
    case 'D': {
      const relationId = r.u32();
      const kind = String.fromCharCode(r.u8());
      if (kind !== 'K' && kind !== 'O') throw new PgoutputDecodeError(`delete: expected 'K' or 'O', got '${kind}'`);
      return { tag: 'delete', relationId, oldKind: kind === 'K' ? 'key' : 'old', oldTuple: tuple(r) };
    }
    case 'T': {
      const n = r.i32();
      const options = r.u8();
      const relationIds: number[] = [];
      for (let i = 0; i < n; i++) relationIds.push(r.u32());
      return { tag: 'truncate', cascade: (options & 1) === 1, restartIdentity: (options & 2) === 2, relationIds };
    }
    case 'M': {
      const flags = r.u8();
      const lsn = r.u64();
      const prefix = r.cstr();
      const content = r.bytes(r.i32());
      return { tag: 'message', transactional: (flags & 1) === 1, lsn, prefix, content };
    }
    default:
      return { tag: 'unknown', byte: tag };
  }
}

function expect(r: Reader, c: string): void {
  const got = String.fromCharCode(r.u8());
  if (got !== c) throw new PgoutputDecodeError(`expected '${c}', got '${got}'`);
}

function tuple(r: Reader): Tuple {
  const n = r.i16();
  const values: Tuple = new Array(n);
  for (let i = 0; i < n; i++) {
    const kind = String.fromCharCode(r.u8());
    switch (kind) {
      case 'n': values[i] = null; break;
      case 'u': values[i] = UNCHANGED; break;
      case 't': values[i] = r.text(r.i32()); break;
      case 'b': throw new PgoutputDecodeError('binary tuple data is not supported (the connector uses text mode)');
      default: throw new PgoutputDecodeError(`unknown tuple value kind '${kind}'`);
    }
  }
  return values;
}
