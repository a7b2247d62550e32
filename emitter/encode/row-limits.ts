// The size ceiling of a captured row: values up to maxColumnBytes each and rows up to maxRowBytes (the text
// Postgres sends, UTF-8) flow with no configuration; past them the default is a clear error that names the
// table, the key and the column — nothing is sent, so nothing is acknowledged or lost (docs/connector.md,
// "Large values"). Pure.
import type { Tuple } from './change-record.ts';
import type { TableSchema } from '../../schemas/src/envelope.ts';
import { createHash } from 'node:crypto';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { textBytes, Utf8Text } from '../../schemas/src/utf8-text.ts';

export interface RowLimits {
  maxColumnBytes: number;
  maxRowBytes: number;
  /** tables (schema.table) whose rows past the ceiling are dead-lettered instead of failing the connector */
  deadLetter?: string[];
}

export interface Oversize {
  /** the column past maxColumnBytes, or null when the row as a whole is past maxRowBytes */
  column: string | null;
  bytes: number;
  limit: number;
}

/** The first limit `tuple` is past, or null. Cheap for ordinary rows: UTF-8 is measured only when a value could be near a limit. */
export function findOversize(table: TableSchema, tuple: Tuple, limits: RowLimits): Oversize | null {
  let most = 0;
  // a UTF-16 code unit is at most 3 UTF-8 bytes; text kept as bytes has its size
  for (const v of tuple) if (typeof v === 'string') most += v.length * 3; else if (v instanceof Utf8Text) most += v.bytes.length;
  if (most <= Math.min(limits.maxColumnBytes, limits.maxRowBytes)) return null;
  let total = 0;
  for (let i = 0; i < tuple.length; i++) {
    const v = tuple[i];
    if (typeof v !== 'string' && !(v instanceof Utf8Text)) continue;
    const bytes = textBytes(v);
    if (bytes > limits.maxColumnBytes) return { column: table.columns[i]?.name ?? `#${i}`, bytes, limit: limits.maxColumnBytes };
    total += bytes;
  }
  return total > limits.maxRowBytes ? { column: null, bytes: total, limit: limits.maxRowBytes } : null;
}

/** The key of a row as Postgres wrote it, for messages: id=42, or (project_id=7, id=42). */
export function describeKey(table: TableSchema, tuple: Tuple): string {
  const parts = table.columns.flatMap((c, i) => {
    const v = tuple[i];
    return c.isKey ? [`${c.name}=${typeof v === 'string' || v instanceof Utf8Text ? String(v) : 'null'}`] : [];
  });
  return parts.length === 1 ? parts[0]! : `(${parts.join(', ')})`;
}

export function rowTooLarge(table: TableSchema, tuple: Tuple, found: Oversize): TracelakeError {
  const where = `${table.schema}.${table.table} row ${describeKey(table, tuple)}`;
  const what = found.column === null ? `the row is ${found.bytes} bytes` : `column ${found.column} holds ${found.bytes} bytes`;
  const limit = found.column === null ? 'limits.maxRowBytes' : 'limits.maxColumnBytes';
  return new TracelakeError(`${where}: ${what}, past ${limit} (${found.limit}); nothing of it was sent`, {
    code: 'ROW_TOO_LARGE',
    remedy: `raise ${limit} (and the topics' max.message.bytes if the record would not fit: docs/connector.md, "Large values"), or exclude the column from capture`,
  });
}

/**
 * What a dead-lettered row's record says (JSON): the table, the key, the position the change had, why, and
 * every column's size with its SHA-256; the values themselves as far as they fit in maxColumnBytes together
 * (the row is past a Kafka-sized ceiling, so all of it may not fit a record). The row stays in Postgres.
 */
export function deadLetterRecord(table: TableSchema, tuple: Tuple, found: Oversize, op: string, position: Record<string, string | null>): Buffer {
  const columns: Record<string, { bytes: number; sha256: string; value?: string }> = {};
  let room = found.limit;
  table.columns.forEach((c, i) => {
    const v = tuple[i];
    if (typeof v !== 'string' && !(v instanceof Utf8Text)) return;
    const bytes = textBytes(v);
    const entry: { bytes: number; sha256: string; value?: string } = { bytes, sha256: createHash('sha256').update(typeof v === 'string' ? v : v.bytes).digest('hex') };
    if (bytes <= room && c.name !== found.column) {
      entry.value = String(v);
      room -= bytes;
    }
    columns[c.name] = entry;
  });
  return Buffer.from(JSON.stringify({
    table: `${table.schema}.${table.table}`, key: describeKey(table, tuple), op, position,
    error: { code: 'ROW_TOO_LARGE', message: rowTooLarge(table, tuple, found).message }, columns,
  }));
}
