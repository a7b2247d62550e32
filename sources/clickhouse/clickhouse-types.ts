// ClickHouse column types → Avro field types, and the SELECT expression that reads each column as exact text.
//
// The source never lets a client library or a JSON parser interpret a value: every column is selected as a
// String (toString, toUnixTimestamp64Micro, toJSONString, …), so what arrives is ClickHouse's own text of the
// value, which the column's converter turns into the Avro value (as the Postgres source does with pgoutput's
// text). Pure; docs/type-mapping.md lists the mapping.
import type { AvroSchema } from '../../schemas/src/avro/types.ts';
import { callArgs } from './sql-text.ts';
import { decimalToBytes, ValueConversionError, UnsupportedTypeError, type FieldMapping, type MappingOptions } from '../../schemas/src/pg-types.ts';

/** A column's mapping plus how to select it as text. */
export interface ClickHouseColumnMapping extends FieldMapping {
  /** the SELECT expression over the (quoted) column that yields its text, NULL for NULL */
  select: (column: string) => string;
}

type Mapping = Omit<ClickHouseColumnMapping, 'pgType'>;

const DEC_MAX_PRECISION = 38;
const json = { type: 'string', 'connect.name': 'io.debezium.data.Json' } as AvroSchema;
const timestampMicros = { type: 'long', logicalType: 'timestamp-micros' } as AvroSchema;

const asIs = (c: string) => c;
const text = (c: string) => `toString(${c})`;
const asString: Mapping = { avro: 'string', convert: (t) => t, select: asIs };
const asStringOf: Mapping = { avro: 'string', convert: (t) => t, select: text };
const asJson: Mapping = { avro: json, convert: (t) => t, select: (c) => `toJSONString(${c})` };

function integer(bits: number, signed: boolean): Mapping {
  // Avro int holds Int8..Int32 and UInt8..UInt16; long holds up to Int64 (UInt64 past 2^63-1 is refused by value)
  if (bits <= 16 || (bits === 32 && signed)) return { avro: 'int', convert: (t) => Number.parseInt(t, 10), select: text };
  if (bits <= 64) return { avro: 'long', convert: toLong, select: text };
  return asStringOf; // (U)Int128/256: their decimal text
}

function toLong(t: string): bigint {
  const n = BigInt(t);
  if (n > 0x7fff_ffff_ffff_ffffn) throw new ValueConversionError(`integer ${t} does not fit a signed 64-bit long`);
  return n;
}

function float(avro: 'float' | 'double'): Mapping {
  return {
    avro, select: text,
    convert: (t) => (t === 'inf' || t === '+inf' ? Infinity : t === '-inf' ? -Infinity : t === 'nan' || t === '-nan' ? Number.NaN : Number(t)),
  };
}

function decimal(precision: number, scale: number, opts: MappingOptions): Mapping {
  if (precision <= DEC_MAX_PRECISION && opts.decimalMode === 'precise') {
    return { avro: { type: 'bytes', logicalType: 'decimal', precision, scale } as AvroSchema, convert: (t) => decimalToBytes(t, scale), select: text };
  }
  if (opts.decimalMode === 'double') return float('double');
  return asStringOf;
}

/** The type's arguments: `Decimal(10, 2)` → ['10', '2']; nested parentheses and quoted strings kept whole. */
export const typeArgs = callArgs;

/** `Nullable(LowCardinality(String))` → String; wrappers that do not change a value's text. */
export function baseType(type: string): { base: string; nullable: boolean } {
  let t = type.trim(), nullable = false;
  for (;;) {
    const m = /^(Nullable|LowCardinality|SimpleAggregateFunction)\((.*)\)$/s.exec(t);
    if (!m) return { base: t, nullable };
    if (m[1] === 'Nullable') nullable = true;
    t = m[1] === 'SimpleAggregateFunction' ? typeArgs(t).slice(1).join(', ') : m[2]!;
  }
}

function mapType(type: string, opts: MappingOptions): Mapping | undefined {
  const { base } = baseType(type);
  const name = base.replace(/\(.*$/s, '');
  const args = typeArgs(base);
  const intMatch = /^(U?)Int(8|16|32|64|128|256)$/.exec(name);
  if (intMatch) return integer(Number(intMatch[2]), intMatch[1] === '');
  switch (name) {
    case 'String': case 'FixedString': return asString;
    case 'UUID': case 'IPv4': case 'IPv6': case 'Enum8': case 'Enum16': case 'Enum': return asStringOf;
    case 'Bool': return { avro: 'boolean', convert: (t) => t === 'true', select: text };
    case 'Float32': return float('float');
    case 'Float64': return float('double');
    case 'Decimal': return decimal(Number(args[0]), Number(args[1] ?? 0), opts);
    case 'Decimal32': return decimal(9, Number(args[0]), opts);
    case 'Decimal64': return decimal(18, Number(args[0]), opts);
    case 'Decimal128': return decimal(38, Number(args[0]), opts);
    case 'Decimal256': return decimal(76, Number(args[0]), opts);
    case 'Date': case 'Date32':
      return { avro: { type: 'int', logicalType: 'date' } as AvroSchema, convert: (t) => Number.parseInt(t, 10), select: (c) => `toString(toInt32(${c}))` };
    case 'DateTime':
      return { avro: timestampMicros, convert: (t) => BigInt(t) * 1_000_000n, select: (c) => `toString(toUnixTimestamp(${c}))` };
    case 'DateTime64':
      // precision above 6 (nanoseconds) is cut to microseconds, the finest a Delta TIMESTAMP holds
      return { avro: timestampMicros, convert: (t) => BigInt(t), select: (c) => `toString(toUnixTimestamp64Micro(${c}))` };
    case 'Array': {
      const item = baseType(args[0] ?? '').base.replace(/\(.*$/s, '');
      if (item === 'String' || item === 'FixedString') {
        return { avro: { type: 'array', items: 'string' } as AvroSchema, convert: parseStringArray, select: (c) => `toJSONString(${c})` };
      }
      return asJson;
    }
    case 'Map': case 'Tuple': case 'JSON': case 'Object': case 'Nested': case 'Variant': case 'Dynamic': return asJson;
  }
  return undefined;
}

function parseStringArray(t: string): string[] {
  const v = JSON.parse(t) as unknown;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ValueConversionError(`expected an array of strings, got ${t.slice(0, 80)}`);
  return v as string[];
}

/** Maps one column; `table` and `column` only name the place in errors. `pgType` carries the ClickHouse type. */
export function mapClickHouseColumn(type: string, opts: MappingOptions, table: string, column: string): ClickHouseColumnMapping {
  const m = mapType(type, opts);
  if (!m) {
    if (opts.unknownTypes === 'string') return { ...asStringOf, pgType: type };
    throw new UnsupportedTypeError(table, column, type);
  }
  return { ...m, pgType: type };
}

/** A ClickHouse identifier, back-quoted. */
export function chIdent(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

/** A ClickHouse string literal. */
export function chString(value: string): string {
  return "'" + value.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}
