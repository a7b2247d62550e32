// Avro field types (with the connector's annotations) → Delta column types, and values → the JSON cells
// a MERGE statement carries them in, with the projection that turns a cell into that type. Pure.
//
// Row values never become SQL syntax: a statement's rows travel as one JSON document inside one raw string
// literal, which the engine parses with from_json against a schema of cell types (plan/merge-plan.ts).
// Strings are JSON strings, bytes base64, decimals their exact text, timestamps and dates integers;
// conversions (timestamp_micros, CAST to DECIMAL, …) are applied once per column in the SELECT over it.
import type { AvroSchema } from '../../../schemas/src/avro/types.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';

export interface DeltaColumnType {
  /** Delta/Databricks SQL type, e.g. BIGINT, DECIMAL(20,6), ARRAY<STRING> */
  sql: string;
  /** the type a value travels as in the statement's JSON (a from_json schema type) */
  cellType: string;
  /** renders a non-null value as JSON text */
  json: (v: unknown) => string;
  /** wraps the cell reference `ref` (of cellType) into the Delta type */
  project: (ref: string) => string;
  /** for a STRING cell that can be long (text, bytes): the string the cell holds, so it can travel in parts */
  text?: (v: unknown) => string;
  /**
   * for an orderable type with exact literals (integers, dates, timestamps): a value's order, and the SQL
   * literal of an order (undefined when it has none, e.g. a year past 9999) — for range predicates
   */
  bound?: Bound;
}

export interface Bound {
  order: (v: unknown) => bigint;
  literal: (order: bigint) => string | undefined;
}

/** integers, days and microseconds all order as the integer they travel as */
const bound = (literal: Bound['literal']): Bound => ({ order: (v) => BigInt(v as bigint | number), literal });

/** floor division, for negative microseconds too */
const floorDiv = (a: bigint, b: bigint): bigint => (a % b === 0n || a >= 0n ? a / b : a / b - 1n);

/** ISO text of a UTC instant in ms, or undefined outside years 0000–9999 (which a SQL literal cannot spell) */
function isoUtc(ms: bigint): string | undefined {
  if (ms < -62_167_219_200_000n || ms > 253_402_300_799_999n) return undefined;
  return new Date(Number(ms)).toISOString();
}

const intBound = bound((o) => `${o}`);
const bigintBound = bound((o) => `${o}L`);
const timestampBound = bound((us) => {
  const iso = isoUtc(floorDiv(us, 1000n));
  return iso && `TIMESTAMP'${iso.slice(0, -1)}${String(((us % 1000n) + 1000n) % 1000n).padStart(3, '0')}Z'`;
});
const dateBound = bound((days) => {
  const iso = isoUtc(days * 86_400_000n);
  return iso && `DATE'${iso.slice(0, 10)}'`;
});

function col(sql: string, cellType: string, json: (v: unknown) => string, convert?: (ref: string) => string, text?: (v: unknown) => string, bound?: Bound): DeltaColumnType {
  return {
    sql, cellType, json,
    project: convert ?? ((ref) => (cellType === sql ? ref : `CAST(${ref} AS ${sql})`)),
    ...(text ? { text } : {}),
    ...(bound ? { bound } : {}),
  };
}

type Obj = { type: string; logicalType?: string; precision?: number; scale?: number; items?: unknown; 'connect.name'?: string };

export function deltaType(avro: AvroSchema, where: string): DeltaColumnType {
  if (typeof avro === 'string') return primitive(avro, where);
  if (Array.isArray(avro)) {
    const nonNull = avro.filter((t) => t !== 'null');
    if (nonNull.length !== 1) throw unsupported(where, JSON.stringify(avro));
    return deltaType(nonNull[0] as AvroSchema, where);
  }
  const o = avro as unknown as Obj;
  switch (o.logicalType) {
    case 'timestamp-micros':
      return col('TIMESTAMP', 'BIGINT', bigintJson, (r) => `timestamp_micros(${r})`, undefined, timestampBound);
    case 'date':
      return col('DATE', 'INT', intJson, (r) => `date_from_unix_date(${r})`, undefined, dateBound);
    case 'time-micros':
      // Delta has no TIME type: microseconds since midnight as BIGINT
      return col('BIGINT', 'BIGINT', bigintJson, undefined, undefined, bigintBound);
    case 'decimal': {
      const sql = `DECIMAL(${o.precision},${o.scale ?? 0})`;
      return col(sql, 'STRING', (v) => `"${decimalText(v as Buffer, o.scale ?? 0)}"`);
    }
  }
  if (o.type === 'array') {
    const item = deltaType(o.items as AvroSchema, `${where}[]`);
    const converted = item.project('x');
    return col(`ARRAY<${item.sql}>`, `ARRAY<${item.cellType}>`,
      (v) => `[${(v as unknown[]).map((x) => (x === null ? 'null' : item.json(x))).join(',')}]`,
      converted === 'x' ? undefined : (r) => `transform(${r}, x -> ${converted})`);
  }
  return primitive(o.type, where);
}

function primitive(t: string, where: string): DeltaColumnType {
  switch (t) {
    case 'boolean': return col('BOOLEAN', 'BOOLEAN', (v) => (v ? 'true' : 'false'));
    case 'int': return col('INT', 'INT', intJson, undefined, undefined, intBound);
    case 'long': return col('BIGINT', 'BIGINT', bigintJson, undefined, undefined, bigintBound);
    case 'float': return col('FLOAT', 'DOUBLE', doubleJson);
    case 'double': return col('DOUBLE', 'DOUBLE', doubleJson);
    case 'string': return col('STRING', 'STRING', (v) => JSON.stringify(String(v)), undefined, (v) => String(v));
    case 'bytes': return col('BINARY', 'STRING', (v) => `"${(v as Buffer).toString('base64')}"`, (r) => `unbase64(${r})`, (v) => (v as Buffer).toString('base64'));
    default: throw unsupported(where, t);
  }
}

function intJson(v: unknown): string {
  return String(Number(v));
}

function bigintJson(v: unknown): string {
  if (typeof v !== 'bigint' && typeof v !== 'number') throw new Error(`expected an integer, got ${typeof v}`);
  return `${BigInt(v)}`;
}

/** JSON has no NaN or infinities; Spark's JSON reader takes them as these strings for DOUBLE/FLOAT. */
function doubleJson(v: unknown): string {
  const n = Number(v);
  if (Number.isNaN(n)) return '"NaN"';
  if (n === Infinity) return '"Infinity"';
  if (n === -Infinity) return '"-Infinity"';
  if (Object.is(n, -0)) return '-0.0';
  // JavaScript's shortest round-trip form is valid JSON and keeps every bit
  return String(n);
}

/** Avro decimal bytes (big-endian two's complement, unscaled) → '123.4500' */
export function decimalText(buf: Buffer, scale: number): string {
  if (buf.length === 0) return '0';
  const n = BigInt.asIntN(buf.length * 8, BigInt('0x' + buf.toString('hex')));
  const digits = (n < 0n ? -n : n).toString().padStart(scale + 1, '0');
  const sign = n < 0n ? '-' : '';
  return scale === 0 ? sign + digits : `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function unsupported(where: string, type: string): TracelakeError {
  return new TracelakeError(`column ${where} has Avro type ${type}, which the sink cannot map to Delta`, {
    code: 'UNSUPPORTED_TYPE', remedy: 'the topic was not written by the tracelake connector; route it elsewhere',
  });
}
