// A tiny writer for the protocol's wire format, so each message is built from the spec, not from the decoder.
export class PgoutputWriter {
  parts: Buffer[] = [];
  c(ch: string) { this.parts.push(Buffer.from(ch, 'latin1')); return this; }
  u8(n: number) { const b = Buffer.alloc(1); b.writeUInt8(n); this.parts.push(b); return this; }
  i16(n: number) { const b = Buffer.alloc(2); b.writeInt16BE(n); this.parts.push(b); return this; }
  i32(n: number) { const b = Buffer.alloc(4); b.writeInt32BE(n); this.parts.push(b); return this; }
  u64(n: bigint) { const b = Buffer.alloc(8); b.writeBigUInt64BE(n); this.parts.push(b); return this; }
  str(s: string) { this.parts.push(Buffer.from(s, 'utf8'), Buffer.from([0])); return this; }
  text(s: string) { const b = Buffer.from(s, 'utf8'); this.c('t').i32(b.length); this.parts.push(b); return this; }
  done() { return Buffer.concat(this.parts); }
}
