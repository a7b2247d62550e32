// avsc types for tracelake's Avro schemas. One deviation from avsc's defaults: Avro `long` is a JS bigint
// (avsc's default long is a double and refuses values beyond 2^53: Postgres int8 ids, LSNs and epoch
// microseconds need all 64 bits). Logical types (decimal, timestamp-micros, date, …) are left to their
// underlying Avro types; tracelake converts them itself (schemas/src/pg-types.ts, sink/src/…).
import avro from 'avsc';

// avsc packs the returned bytes immediately, so one scratch buffer serves every write (no allocation per value)
const scratch = Buffer.alloc(8);
// avsc asks isValid of every branch of a nullable long's union for every value written: bounds computed once
const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;
const BigIntLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    scratch.writeBigInt64LE(n);
    return scratch;
  },
  fromJSON: (v: unknown) => BigInt(v as string | number),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint' && n >= MIN_LONG && n <= MAX_LONG,
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

export type AvroType = avro.Type;
export type AvroSchema = avro.Schema;

/** Parses an Avro schema (object or JSON text) into an avsc type with bigint longs. */
export function avroType(schema: AvroSchema | string): AvroType {
  const parsed = typeof schema === 'string' ? (JSON.parse(schema) as AvroSchema) : schema;
  return avro.Type.forSchema(parsed, { typeHook: longAsBigInt });
}

// Every `long`, whether spelled 'long' or {type: 'long', logicalType: …}, becomes the bigint long.
function longAsBigInt(schema: AvroSchema): AvroType | undefined {
  if (schema === 'long') return BigIntLong;
  if (typeof schema === 'object' && schema !== null && !Array.isArray(schema) && (schema as { type?: unknown }).type === 'long') {
    return BigIntLong;
  }
  return undefined;
}
