// avsc types for tracelake's Avro schemas. Two deviations from avsc's defaults: Avro `long` is a JS bigint
// (avsc's default long is a double and refuses values beyond 2^53: Postgres int8 ids, LSNs and epoch
// microseconds need all 64 bits); an Avro `string` may also be written from a Utf8Text, text the source sent as
// UTF-8 bytes, which are written as they are (see below). Logical types (decimal, timestamp-micros, date, …) are left to their
// underlying Avro types; tracelake converts them itself (schemas/src/pg-types.ts, sink/src/…).
import avro from 'avsc';
import { Utf8Text } from '../utf8-text.ts';

// avsc packs the returned bytes immediately, so one scratch buffer serves every write (no allocation per value)
const scratch = Buffer.alloc(8);
// avsc asks isValid of every branch of a nullable long's union for every value written: bounds computed once
const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;
const bigIntMethods = {
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    scratch.writeBigInt64LE(n);
    return scratch;
  },
  fromJSON: (v: unknown) => BigInt(v as string | number),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint' && n >= MIN_LONG && n <= MAX_LONG,
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
};

// avsc writes a custom long (LongType.__with) by asking for its 8 bytes and packing them into a zigzag varint a
// bit at a time: with several longs per change event (key, LSNs, times) that was ~20% of the encoder thread for
// small rows (docs/benchmarks.md). So the long type is avsc's custom long with one change: a bigint within
// ±2^52 is written as avsc writes a plain long, from a double (exact there); anything else goes the way it went.
// (avsc freezes its types, hence a subclass of its abstract long, given the methods as __with gives them.)
interface LongTap { writeLong(n: number): void }
interface AbstractLong { _write(tap: LongTap, v: unknown): void }
const AbstractLongType = Object.getPrototypeOf(avro.types.LongType.__with(bigIntMethods)).constructor as new (noUnpack: boolean) => AbstractLong;
const LONG_AS_DOUBLE = 2 ** 52;
class BigIntLongType extends AbstractLongType {
  override _write(tap: LongTap, v: unknown): void {
    if (typeof v === 'bigint') {
      const n = Number(v);
      if (n >= -LONG_AS_DOUBLE && n <= LONG_AS_DOUBLE) return tap.writeLong(n);
    }
    super._write(tap, v);
  }
}
const BigIntLong = Object.freeze(Object.assign(new BigIntLongType(false), {
  _toBuffer: bigIntMethods.toBuffer,
  _fromBuffer: bigIntMethods.fromBuffer,
  _fromJSON: bigIntMethods.fromJSON,
  _toJSON: bigIntMethods.toJSON,
  _isValid: bigIntMethods.isValid,
  compare: bigIntMethods.compare,
})) as unknown as avro.Type;

// An Avro string is its UTF-8 length and bytes: a Utf8Text's bytes are written as they are, where avsc would
// want a JS string (and encode it to UTF-8 again). A nullable string's union finds the string branch for one;
// any other union refuses one, as it refuses any value it has no branch for.
// (avsc freezes its types, hence subclasses overriding only the write; reading gives strings as before.)
interface BytesTap { writeBytes(b: Buffer): void; writeLong(n: number): void }
interface StringWriter { _write(tap: BytesTap, v: unknown): void }
class Utf8StringType extends (avro.types.StringType as unknown as new () => StringWriter) {
  override _write(tap: BytesTap, v: unknown): void {
    if (v instanceof Utf8Text) tap.writeBytes(v.bytes);
    else super._write(tap, v);
  }
}
const Utf8String = new Utf8StringType() as unknown as avro.Type;
interface Union { types: avro.Type[]; _getIndex(v: unknown): number | undefined }
class Utf8AwareUnionType extends (avro.types.UnwrappedUnionType as unknown as new (schema: unknown, opts: unknown) => Union) {
  override _getIndex(v: unknown): number | undefined {
    return v instanceof Utf8Text ? this.types.indexOf(Utf8String) : super._getIndex(v);
  }
}

export type AvroType = avro.Type;
export type AvroSchema = avro.Schema;

/** Parses an Avro schema (object or JSON text) into an avsc type with bigint longs. */
export function avroType(schema: AvroSchema | string): AvroType {
  const parsed = typeof schema === 'string' ? (JSON.parse(schema) as AvroSchema) : schema;
  return avro.Type.forSchema(parsed, { typeHook });
}

// Every `long`, whether spelled 'long' or {type: 'long', logicalType: …}, becomes the bigint long; every
// `string` the string that takes a Utf8Text too, and a nullable string's union one that finds its string branch
// for one (other unions are avsc's own: it wraps the ambiguous ones).
function typeHook(schema: AvroSchema, opts: unknown): AvroType | undefined {
  if (Array.isArray(schema)) {
    const [a, b] = schema.map(typeName);
    const nullableString = schema.length === 2 && ((a === 'null' && b === 'string') || (a === 'string' && b === 'null'));
    return nullableString ? new Utf8AwareUnionType(schema, opts) as unknown as AvroType : undefined;
  }
  const type = typeName(schema);
  if (type === 'long') return BigIntLong;
  if (type === 'string') return Utf8String;
  return undefined;
}

/** The type a schema names ('long', {type: 'string', …}), if it names one by a string. */
function typeName(schema: unknown): unknown {
  return typeof schema === 'string' ? schema : typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? (schema as { type?: unknown }).type : undefined;
}
