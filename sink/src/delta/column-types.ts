// Avro field types (with the connector's annotations) → Delta column types, and values → SQL literals
// with the projection that turns the literal into that type. Pure.
//
// Row values never become SQL syntax: strings are escaped by sqlString (backslash and \uXXXX escapes),
// bytes travel as base64 (an alphabet with no quote or backslash), numbers are rendered from typed
// values. A VALUES row holds only such literals; conversions (timestamp_micros, CAST to DECIMAL, …) are
// applied once per column in the SELECT over it.
import { sqlString } from '../sql/literals.ts';
import type { AvroSchema } from '../../../schemas/src/avro/types.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';

export interface DeltaColumnType {
  /** Delta/Databricks SQL type, e.g. BIGINT, DECIMAL(20,6), ARRAY<STRING> */
  sql: string;
  /** renders a non-null value as a literal for a VALUES row */
  literal: (v: unknown) => string;
  /** wraps the VALUES column reference `ref` into the Delta type */
  project: (ref: string) => string;
}

/**
 * A column type from: the SQL type of its literals, and the conversion to the Delta type. The literal
 * type is applied first, so a column whose values are all NULL in a batch (type VOID) still converts.
 */
function col(sql: string, literalType: string, literal: (v: unknown) => string, convert?: (ref: string) => string): DeltaColumnType {
  return {
    sql, literal,
    project: (ref) => (convert ? convert(`CAST(${ref} AS ${literalType})`) : `CAST(${ref} AS ${sql})`),
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
      return col('TIMESTAMP', 'BIGINT', bigintLiteral, (r) => `timestamp_micros(${r})`);
    case 'date':
      return col('DATE', 'INT', (v) => String(Number(v)), (r) => `date_from_unix_date(${r})`);
    case 'time-micros':
      // Delta has no TIME type: microseconds since midnight as BIGINT
      return col('BIGINT', 'BIGINT', bigintLiteral);
    case 'decimal': {
      const sql = `DECIMAL(${o.precision},${o.scale ?? 0})`;
      return col(sql, 'STRING', (v) => `'${decimalText(v as Buffer, o.scale ?? 0)}'`, (r) => `CAST(${r} AS ${sql})`);
    }
  }
  if (o.type === 'array') {
    const item = deltaType(o.items as AvroSchema, `${where}[]`);
    const sql = `ARRAY<${item.sql}>`;
    const literalItem = literalTypeOf(o.items as AvroSchema);
    return col(sql, `ARRAY<${literalItem}>`,
      (v) => `array(${(v as unknown[]).map((x) => (x === null ? 'NULL' : item.literal(x))).join(', ')})`,
      (r) => `transform(${r}, x -> ${item.project('x')})`);
  }
  return primitive(o.type, where);
}

function primitive(t: string, where: string): DeltaColumnType {
  switch (t) {
    case 'boolean': return col('BOOLEAN', 'BOOLEAN', (v) => (v ? 'TRUE' : 'FALSE'));
    case 'int': return col('INT', 'INT', (v) => String(Number(v)));
    case 'long': return col('BIGINT', 'BIGINT', bigintLiteral);
    case 'float': return col('FLOAT', 'DOUBLE', floatLiteral, (r) => `CAST(${r} AS FLOAT)`);
    case 'double': return col('DOUBLE', 'DOUBLE', floatLiteral);
    case 'string': return col('STRING', 'STRING', (v) => sqlString(String(v)));
    case 'bytes': return col('BINARY', 'STRING', (v) => `'${(v as Buffer).toString('base64')}'`, (r) => `unbase64(${r})`);
    default: throw unsupported(where, t);
  }
}

/** The SQL type of the literals `deltaType` renders for an Avro type. */
function literalTypeOf(avro: AvroSchema): string {
  const o = (typeof avro === 'string' ? { type: avro } : avro) as unknown as Obj;
  if (o.logicalType === 'timestamp-micros' || o.logicalType === 'time-micros') return 'BIGINT';
  if (o.logicalType === 'date') return 'INT';
  if (o.logicalType === 'decimal') return 'STRING';
  if (o.type === 'array') return `ARRAY<${literalTypeOf(o.items as AvroSchema)}>`;
  return ({ boolean: 'BOOLEAN', int: 'INT', long: 'BIGINT', float: 'DOUBLE', double: 'DOUBLE', string: 'STRING', bytes: 'STRING' } as Record<string, string>)[o.type] ?? 'STRING';
}

function bigintLiteral(v: unknown): string {
  if (typeof v !== 'bigint' && typeof v !== 'number') throw new Error(`expected an integer, got ${typeof v}`);
  return `${BigInt(v)}`;
}

function floatLiteral(v: unknown): string {
  const n = Number(v);
  if (Number.isNaN(n)) return "CAST('NaN' AS DOUBLE)";
  if (n === Infinity) return "CAST('Infinity' AS DOUBLE)";
  if (n === -Infinity) return "CAST('-Infinity' AS DOUBLE)";
  // exponent form keeps every digit and is a DOUBLE literal in Spark SQL
  return n.toExponential().replace('e+', 'E').replace('e-', 'E-');
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
