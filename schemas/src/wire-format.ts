// Avro in the Confluent Schema Registry wire format: 0x00, the 4-byte big-endian schema id, the Avro body. Kept
// apart from the registry's REST client (registry.ts) so that the connector's encoder thread loads only this.
import type { AvroType } from './avro/types.ts';
import { TracelakeError } from './errors.ts';

export const MAGIC_BYTE = 0;

export interface RegisteredSchema {
  id: number;
  type: AvroType;
}

let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The value in the wire format: magic byte, schema id, Avro body. Encoded into a scratch buffer, then copied
 * into one buffer of the exact size (pooled for small messages: no zero-fill) — `toBuffer` would allocate a
 * zero-filled body and copy it once more.
 */
export function encodeWire(schema: RegisteredSchema, value: unknown): Buffer {
  let end = writeWire(schema, value, scratch, 0);
  if (end < 0) {
    scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
    end = writeWire(schema, value, scratch, 0);
  }
  const out = Buffer.allocUnsafe(end);
  scratch.copy(out, 0, 0, end);
  return out;
}

/**
 * Writes `value` in the wire format into `buf` at `pos`; returns where it ends, or, when it does not fit, minus the
 * number of bytes missing (avsc's convention).
 */
export function writeWire(schema: RegisteredSchema, value: unknown, buf: Buffer, pos: number): number {
  const end = schema.type.encode(value, buf, pos + 5);
  if (end < 0) return end;
  buf.writeUInt8(MAGIC_BYTE, pos);
  buf.writeInt32BE(schema.id, pos + 1);
  return end;
}

/** The schema id of a wire-format message, or an error saying why the bytes are not one. */
export function wireSchemaId(buf: Buffer): number {
  if (buf.length < 5 || buf.readUInt8(0) !== MAGIC_BYTE) {
    throw new TracelakeError('message is not in Schema Registry wire format (no magic byte 0 + schema id)', {
      code: 'NOT_WIRE_FORMAT', remedy: 'only tracelake/Debezium Avro producers should write to these topics',
    });
  }
  return buf.readInt32BE(1);
}

