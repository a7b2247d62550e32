// Postgres column types → Avro field types, and Postgres text values → Avro values.
//
// The one mapping table of tracelake (docs/type-mapping.md is generated from the same data). The connector
// receives every value as Postgres' text rendering (pgoutput text mode, snapshot reads as text), with the
// session settings TimeZone=UTC, DateStyle=ISO, IntervalStyle=iso_8601, bytea_output=hex, extra_float_digits=3.
import { parse as parsePgArray } from 'postgres-array';
import type { AvroSchema } from './avro/types.ts';
import { TracelakeError } from './errors.ts';

/** What the catalog says about a column's type (pg_type). */
export interface PgTypeInfo {
  oid: number;
  schema: string;
  name: string;
  /** pg_type.typtype: b base, c composite, d domain, e enum, p pseudo, r range, m multirange */
  kind: 'b' | 'c' | 'd' | 'e' | 'p' | 'r' | 'm';
  /** for arrays (typcategory 'A'): the element type */
  element?: PgTypeInfo;
  /** for domains: the base type */
  base?: PgTypeInfo;
}

/** How numerics that do not fit Avro/Delta decimal(38) are carried (cf. Debezium decimal.handling.mode). */
export type DecimalMode = 'precise' | 'string' | 'double';

export interface MappingOptions {
  /** precise: decimal(p,s) when p ≤ 38, otherwise (unconstrained numeric, numeric(65,30)) a string */
  decimalMode: DecimalMode;
  /** what to do with a type not in the table: fail (default) or carry its text as a string */
  unknownTypes: 'fail' | 'string';
}
export const defaultMappingOptions: MappingOptions = { decimalMode: 'precise', unknownTypes: 'fail' };

export interface FieldMapping {
  /** the Avro type of a non-null value */
  avro: AvroSchema;
  /** converts Postgres' text rendering to the Avro value */
  convert: (text: string) => unknown;
  /** the Avro value is the text itself (a string): text kept as UTF-8 bytes is written as it is, never decoded */
  asIs?: true;
  /** the Postgres type, as written in DDL (recorded in the schema for the sink and for humans) */
  pgType: string;
}

export class UnsupportedTypeError extends TracelakeError {
  constructor(table: string, column: string, pgType: string) {
    super(`column ${table}.${column} has type ${pgType}, which tracelake cannot map`, {
      code: 'UNSUPPORTED_TYPE',
      remedy: 'exclude the column from capture, or set source.unknownTypes: string to carry its text form',
    });
  }
}
export class ValueConversionError extends TracelakeError {
  constructor(message: string) {
    super(message, { code: 'VALUE_NOT_CONVERTIBLE', remedy: 'see the message; a different decimalMode or unknownTypes setting may carry the value as text' });
  }
}

const DEC_MAX_PRECISION = 38;

const asIs = (t: string): string => t;
const asString: Omit<FieldMapping, 'pgType'> = { avro: 'string', convert: asIs, asIs: true };
const asJson: Omit<FieldMapping, 'pgType'> = { avro: { type: 'string', 'connect.name': 'io.debezium.data.Json' } as AvroSchema, convert: asIs, asIs: true };

/** Built-in base types by name. Everything here is in pg_catalog. */
const BASE: Record<string, Omit<FieldMapping, 'pgType'>> = {
  bool: { avro: 'boolean', convert: (t) => t === 't' },
  int2: { avro: 'int', convert: (t) => Number.parseInt(t, 10) },
  int4: { avro: 'int', convert: (t) => Number.parseInt(t, 10) },
  int8: { avro: 'long', convert: (t) => BigInt(t) },
  oid: { avro: 'long', convert: (t) => BigInt(t) },
  float4: { avro: 'float', convert: parseFloatText },
  float8: { avro: 'double', convert: parseFloatText },
  text: asString, varchar: asString, bpchar: asString, name: asString, char: asString,
  uuid: { avro: { type: 'string', logicalType: 'uuid' } as AvroSchema, convert: asIs, asIs: true },
  json: asJson, jsonb: asJson,
  xml: asString, money: asString, inet: asString, cidr: asString, macaddr: asString, macaddr8: asString,
  bit: asString, varbit: asString, tsvector: asString, tsquery: asString, pg_lsn: asString, timetz: asString,
  point: asString, line: asString, lseg: asString, box: asString, path: asString, polygon: asString, circle: asString,
  interval: { avro: { type: 'string', 'connect.name': 'io.debezium.time.IsoDuration' } as AvroSchema, convert: asIs, asIs: true },
  bytea: { avro: 'bytes', convert: parseBytea },
  date: { avro: { type: 'int', logicalType: 'date' } as AvroSchema, convert: parseDate },
  time: { avro: { type: 'long', logicalType: 'time-micros' } as AvroSchema, convert: parseTimeMicros },
  timestamp: { avro: { type: 'long', logicalType: 'timestamp-micros' } as AvroSchema, convert: (t) => parseTimestampMicros(t, false) },
  timestamptz: { avro: { type: 'long', logicalType: 'timestamp-micros' } as AvroSchema, convert: (t) => parseTimestampMicros(t, true) },
};
/** Extension types commonly found in trace databases, carried as text. */
const EXTENSION_TEXT = new Set(['citext', 'ltree', 'hstore', 'vector']);

/**
 * Maps one column. `table` and `column` only name the place in errors.
 */
export function mapColumn(
  type: PgTypeInfo, typeMod: number, opts: MappingOptions, table: string, column: string,
): FieldMapping {
  const pgType = typeName(type, typeMod);
  const m = mapType(type, typeMod, opts);
  if (!m) {
    if (opts.unknownTypes === 'string') return { ...asString, pgType };
    throw new UnsupportedTypeError(table, column, pgType);
  }
  return { ...m, pgType };
}

function mapType(type: PgTypeInfo, typeMod: number, opts: MappingOptions): Omit<FieldMapping, 'pgType'> | undefined {
  if (type.element) {
    const item = mapType(type.element, typeMod, opts);
    if (!item) return undefined;
    return {
      avro: { type: 'array', items: ['null', item.avro] } as AvroSchema,
      convert: (t) => {
        const parsed = parsePgArray(t, (v) => item.convert(v)) as unknown[];
        if (parsed.some(Array.isArray)) {
          throw new ValueConversionError(`multi-dimensional array ${truncate(t)} is not supported; only one-dimensional arrays are`);
        }
        return parsed;
      },
    };
  }
  switch (type.kind) {
    case 'e': return asString; // enum: its label
    case 'd': return type.base ? mapType(type.base, typeMod, opts) : undefined; // domain: as its base type
    case 'c': case 'r': case 'm': return asString; // composite and range types: their text form
    case 'p': return undefined;
    case 'b': break;
  }
  if (type.schema === 'pg_catalog') {
    if (type.name === 'numeric') return mapNumeric(typeMod, opts.decimalMode);
    return BASE[type.name];
  }
  return EXTENSION_TEXT.has(type.name) ? asString : undefined;
}

/** numeric(p,s): typmod = ((p << 16) | s) + 4; -1 when unconstrained. */
export function numericPrecisionScale(typeMod: number): { precision: number; scale: number } | undefined {
  if (typeMod < 4) return undefined;
  return { precision: ((typeMod - 4) >> 16) & 0xffff, scale: (typeMod - 4) & 0xffff };
}

function mapNumeric(typeMod: number, mode: DecimalMode): Omit<FieldMapping, 'pgType'> {
  if (mode === 'double') return { avro: 'double', convert: parseFloatText };
  const ps = numericPrecisionScale(typeMod);
  if (mode === 'string' || !ps || ps.precision > DEC_MAX_PRECISION) {
    return { avro: { type: 'string', 'connect.name': 'tracelake.DecimalString' } as AvroSchema, convert: asIs, asIs: true };
  }
  const { precision, scale } = ps;
  return {
    avro: { type: 'bytes', logicalType: 'decimal', precision, scale } as AvroSchema,
    convert: (t) => decimalToBytes(t, scale),
  };
}

/** Avro decimal: the unscaled value as big-endian two's complement bytes. */
export function decimalToBytes(text: string, scale: number): Buffer {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) throw new ValueConversionError(`numeric value '${truncate(text)}' cannot be a decimal (NaN and infinities need decimalMode string or double)`);
  const frac = (m[3] ?? '').padEnd(scale, '0');
  if (frac.length > scale) throw new ValueConversionError(`numeric value '${text}' has more than ${scale} decimal places`);
  let unscaled = BigInt((m[2] || '0') + frac);
  if (m[1] === '-') unscaled = -unscaled;
  return bigintToTwosComplement(unscaled);
}

export function bigintToTwosComplement(n: bigint): Buffer {
  let width = 1; // smallest byte width whose signed range holds n
  while (n < -(1n << BigInt(width * 8 - 1)) || n >= 1n << BigInt(width * 8 - 1)) width++;
  const unsigned = n < 0n ? (1n << BigInt(width * 8)) + n : n;
  return Buffer.from(unsigned.toString(16).padStart(width * 2, '0'), 'hex');
}

function parseFloatText(t: string): number {
  if (t === 'NaN') return Number.NaN;
  if (t === 'Infinity') return Number.POSITIVE_INFINITY;
  if (t === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number(t);
}

function parseBytea(t: string): Buffer {
  if (!t.startsWith('\\x')) throw new ValueConversionError('bytea value is not in hex format (set bytea_output=hex)');
  return Buffer.from(t.slice(2), 'hex');
}

const DATE_RE = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/;
/** days since 1970-01-01 */
function parseDate(t: string): number {
  const m = DATE_RE.exec(t);
  if (!m) throw new ValueConversionError(`date '${truncate(t)}' cannot be carried (infinity is not supported)`);
  return Math.round(Date.UTC(year(m[1]!, m[4]), Number(m[2]) - 1, Number(m[3])) / 86_400_000);
}

function parseTimeMicros(t: string): bigint {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(t);
  if (!m) throw new ValueConversionError(`time '${truncate(t)}' is not HH:MM:SS[.ffffff]`);
  return (BigInt(Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1_000_000n) + BigInt((m[4] ?? '').padEnd(6, '0'));
}

const TS_RE = /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::(\d{2}))?)?( BC)?$/;
/**
 * Microseconds since the Unix epoch, UTC. `timestamp` (without time zone) is read as UTC wall time, which
 * is how Langfuse and Phoenix store it; `timestamptz` honours its offset (always +00 with TimeZone=UTC).
 */
export function parseTimestampMicros(t: string, withZone: boolean): bigint {
  const fast = usualTimestampMicros(t, withZone);
  if (fast !== null) return BigInt(fast);
  const m = TS_RE.exec(t);
  if (!m) throw new ValueConversionError(`timestamp '${truncate(t)}' cannot be carried (infinity is not supported)`);
  if (withZone !== (m[8] !== undefined)) {
    throw new ValueConversionError(`timestamp '${t}' ${withZone ? 'lacks' : 'has'} a zone offset`);
  }
  const ms = Date.UTC(year(m[1]!, m[12]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  const fraction = m[7] ? Number(m[7]) * 10 ** (6 - m[7].length) : 0;
  const offsetSec = m[8] ? (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * (m[8] === '-' ? -1 : 1) : 0;
  // in doubles while every step is exact (years ~1685–2255; a span row has several timestamps, and bigint
  // arithmetic made this a micro-second per value), in bigints beyond
  if (Math.abs(ms) <= EXACT_MS) return BigInt(ms * 1000 + fraction - offsetSec * 1_000_000);
  return BigInt(ms) * 1000n + BigInt(fraction) - BigInt(offsetSec) * 1_000_000n;
}

/** |ms| up to which ms × 1000 plus a fraction and a zone offset in microseconds stays below 2^53 */
const EXACT_MS = 9_000_000_000_000;

/**
 * The timestamps Postgres writes for this century and its neighbours, read without a regular expression or
 * bigints (several per span row; the general path below costs ~1 µs each): `YYYY-MM-DD HH:MM:SS[.f{1,6}]`, then
 * for timestamptz `±HH[:MM]`. Null for anything else, which the general path reads (or rejects).
 */
function usualTimestampMicros(t: string, withZone: boolean): number | null {
  const n = t.length;
  if (n < 19 || t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || t.charCodeAt(10) !== 32 || t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return null;
  const y = digits(t, 0, 4), mo = digits(t, 5, 2), d = digits(t, 8, 2), h = digits(t, 11, 2), mi = digits(t, 14, 2), sec = digits(t, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return null;
  let i = 19;
  let fraction = 0;
  if (i < n && t.charCodeAt(i) === 46) {
    const start = ++i;
    while (i < n && i - start < 6 && isDigit(t.charCodeAt(i))) fraction = fraction * 10 + t.charCodeAt(i++) - 48;
    if (i === start) return null;
    fraction *= 10 ** (6 - (i - start));
  }
  let offsetSec = 0;
  if (withZone) {
    const sign = t.charCodeAt(i);
    if ((sign !== 43 && sign !== 45) || i + 3 > n) return null;
    const oh = digits(t, i + 1, 2);
    let om = 0;
    i += 3;
    if (i < n) {
      if (t.charCodeAt(i) !== 58 || i + 3 !== n) return null;
      om = digits(t, i + 1, 2);
      i += 3;
    }
    if (oh < 0 || om < 0) return null;
    offsetSec = (oh * 3600 + om * 60) * (sign === 45 ? -1 : 1);
  }
  if (i !== n) return null;
  const ms = (daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec) * 1000;
  if (Math.abs(ms) > EXACT_MS) return null;
  return ms * 1000 + fraction - offsetSec * 1_000_000;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** the decimal number in t[at, at + count), or -1 if a character is not a digit */
function digits(t: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const c = t.charCodeAt(i);
    if (!isDigit(c)) return -1;
    v = v * 10 + c - 48;
  }
  return v;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil); day overflow rolls on as in Date.UTC. */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function year(y: string, bc: string | undefined): number {
  const n = Number(y);
  return bc ? 1 - n : n; // 1 BC is year 0
}

function truncate(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

/** The type as Postgres spells it in DDL, with its modifier. */
export function typeName(type: PgTypeInfo, typeMod: number): string {
  if (type.element) return typeName(type.element, typeMod) + '[]';
  const qualified = type.schema === 'pg_catalog' ? type.name : `${type.schema}.${type.name}`;
  if (type.name === 'numeric' && type.schema === 'pg_catalog') {
    const ps = numericPrecisionScale(typeMod);
    return ps ? `numeric(${ps.precision},${ps.scale})` : 'numeric';
  }
  if ((type.name === 'varchar' || type.name === 'bpchar') && typeMod >= 4) return `${type.name}(${typeMod - 4})`;
  return qualified;
}
