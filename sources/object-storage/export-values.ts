// The columns of exported rows: a small vocabulary of kinds (string, json, timestamp, double, long, boolean,
// strings), each with its Avro type and converter, and the text a field value of any file format becomes for
// its column. Strings pass unchanged; a JSON value keeps its exact text (json-text.ts) — a JSON string literal
// becomes its string, so a prompt exported as a string lands as that string. Pure.
import type { AvroSchema } from '../../schemas/src/avro/types.ts';
import { ValueConversionError, type FieldMapping } from '../../schemas/src/pg-types.ts';
import { Micros, type FieldValue } from './file-rows.ts';
import { JsonText } from './json-text.ts';
import type { ColumnKind } from '../../schemas/src/export-presets.ts';

const jsonAvro = { type: 'string', 'connect.name': 'io.debezium.data.Json' } as AvroSchema;

/** The column's Avro type and converter from the text valueText() makes. `pgType` names the kind. */
export function kindMapping(kind: ColumnKind): FieldMapping {
  switch (kind) {
    case 'string': return { avro: 'string', convert: (t) => t, pgType: 'string' };
    case 'json': return { avro: jsonAvro, convert: (t) => t, pgType: 'json' };
    case 'timestamp': return { avro: { type: 'long', logicalType: 'timestamp-micros' } as AvroSchema, convert: (t) => BigInt(t), pgType: 'timestamp' };
    case 'double': return { avro: 'double', convert: (t) => Number(t), pgType: 'double' };
    case 'long': return { avro: 'long', convert: (t) => BigInt(t), pgType: 'long' };
    case 'boolean': return { avro: 'boolean', convert: (t) => t === 'true', pgType: 'boolean' };
    case 'strings': return { avro: { type: 'array', items: ['null', 'string'] } as AvroSchema, convert: (t) => JSON.parse(t) as unknown, pgType: 'array<string>' };
  }
}

/** The kind a column not in the preset gets, from a value of it (text formats carry strings only). */
export function kindOf(v: FieldValue): ColumnKind {
  if (v instanceof Micros) return 'timestamp';
  if (typeof v === 'bigint') return 'long';
  if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'double';
  if (typeof v === 'boolean') return 'boolean';
  if (v instanceof JsonText) {
    const c = v.text.charCodeAt(0);
    if (c === 0x22) return 'string';
    if (c === 0x74 || c === 0x66) return 'boolean';
    if (c === 0x7b || c === 0x5b) return 'json';
    return /^-?\d+$/.test(v.text) ? 'long' : 'double';
  }
  if (Array.isArray(v) || (typeof v === 'object' && v !== null && !(v instanceof Uint8Array))) return 'json';
  return 'string';
}

/**
 * The text of a field value for a column of `kind` (what the converter of kindMapping takes); null for a
 * missing or null value. CSV has no null: an empty field is null except in string columns.
 */
export function valueText(v: FieldValue, kind: ColumnKind): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof JsonText) {
    if (v.isNull) return null;
    const s = v.string;
    if (s !== undefined) return kind === 'string' || kind === 'json' ? s : valueText(s, kind);
    switch (kind) {
      case 'string': case 'json': return v.text;
      case 'strings': return strings(JSON.parse(v.text) as unknown);
      default: return valueText(JSON.parse(v.text) as FieldValue, kind);
    }
  }
  if (typeof v === 'string' && v === '' && kind !== 'string' && kind !== 'json') return null;
  switch (kind) {
    case 'string': return plain(v);
    case 'json': return typeof v === 'string' ? v : plain(v);
    case 'timestamp': return String(timestampMicros(v));
    case 'double': return doubleText(v);
    case 'long': return longText(v);
    case 'boolean': return booleanText(v);
    case 'strings': return strings(typeof v === 'string' ? parseJsonArray(v) : v);
  }
}

function plain(v: FieldValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof Micros) return isoMicros(v.us);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? rawJson(x.toString()) : x instanceof Micros ? isoMicros(x.us) : x instanceof JsonText ? rawJson(x.text) : x));
}

/** JSON.rawJSON (ES2025): a number's digits as they are, past 2^53 too */
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

const TS = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** µs since 1970 UTC of a timestamp: Parquet's, or ISO 8601 / SQL text (no zone: UTC, as the platforms write it). */
export function timestampMicros(v: FieldValue): bigint {
  if (v instanceof Micros) return v.us;
  if (typeof v === 'string') {
    const m = TS.exec(v.trim());
    if (!m) throw new ValueConversionError(`"${v.slice(0, 40)}" is not a timestamp (ISO 8601, e.g. 2026-01-31T12:00:00.000Z)`);
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
    let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    if (zone && zone.toUpperCase() !== 'Z') {
      const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
      ms -= (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0)) * 60_000;
    }
    return BigInt(ms) * 1000n + BigInt(frac.padEnd(6, '0').slice(0, 6));
  }
  throw new ValueConversionError(`${plain(v).slice(0, 40)} is not a timestamp`);
}

function isoMicros(us: bigint): string {
  const ms = us / 1000n;
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 19)}.${String(((us % 1_000_000n) + 1_000_000n) % 1_000_000n).padStart(6, '0')}Z`;
}

function doubleText(v: FieldValue): string {
  if (typeof v === 'number' || typeof v === 'bigint') return String(Number(v));
  if (typeof v === 'string') {
    const t = v.trim();
    // decimal notation only (Number() would also take '' as 0 and '0x10' as 16), and Infinity / NaN spelled out
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) || /^[+-]?(Infinity|NaN)$/.test(t)) return String(Number(t));
  }
  throw new ValueConversionError(`${typeof v === 'string' ? `"${v.slice(0, 40)}"` : plain(v).slice(0, 40)} is not a number`);
}

function longText(v: FieldValue): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return v.trim();
  throw new ValueConversionError(`${plain(v).slice(0, 40)} is not an integer`);
}

function booleanText(v: FieldValue): string {
  if (typeof v === 'boolean') return String(v);
  const s = typeof v === 'string' ? v.trim().toLowerCase() : typeof v === 'number' ? String(v) : '';
  if (s === 'true' || s === '1') return 'true';
  if (s === 'false' || s === '0') return 'false';
  throw new ValueConversionError(`${plain(v).slice(0, 40)} is not a boolean`);
}

function parseJsonArray(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    throw new ValueConversionError(`"${s.slice(0, 40)}" is not a JSON array of strings`);
  }
}

function strings(v: unknown): string {
  if (!Array.isArray(v)) throw new ValueConversionError(`${JSON.stringify(v)?.slice(0, 40)} is not an array of strings`);
  return JSON.stringify(v.map((x: unknown) => (x === null || x === undefined ? null : typeof x === 'string' ? x : plain(x as FieldValue))));
}
