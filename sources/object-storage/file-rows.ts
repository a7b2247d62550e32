// The rows of one export file, whatever its format: Parquet (hyparquet), CSV (csv-parse), JSON (one array of
// objects) and JSONL (one object per line), each optionally gzip-compressed. A row is its fields by name, each
// value as the file holds it — a Parquet timestamp as exact microseconds, a JSON value as its exact text
// (json-text.ts) — for export-values.ts to turn into the column's text. Pure (bytes in, rows out).
import { gunzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { arrayElements, JsonText, objectMembers } from './json-text.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';

export type FileFormat = 'parquet' | 'csv' | 'json' | 'jsonl';

/** A timestamp read from Parquet: microseconds since 1970 UTC (JavaScript's Date would keep milliseconds only). */
export class Micros {
  readonly us: bigint;
  constructor(us: bigint) {
    this.us = us;
  }
}

export type FieldValue = string | number | bigint | boolean | null | undefined | Micros | JsonText | Uint8Array | FieldValue[] | { [name: string]: FieldValue };
export type FileRow = Map<string, FieldValue>;

/** A file that cannot be read as its format says: the reason, and where in it (a line or row), if known. */
export class BadFileError extends TracelakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { code: 'FILE_UNREADABLE', remedy: 'fix or re-export the file; it is taken again once its unit is rewritten', cause: options?.cause });
    this.name = 'BadFileError';
  }
}

export interface ReadLimits {
  /** largest size of the file once decompressed */
  maxBytes: number;
}

export async function fileRows(bytes: Uint8Array, format: FileFormat, compressed: boolean, limits: ReadLimits): Promise<FileRow[]> {
  let data = bytes;
  if (compressed) {
    try {
      data = gunzipSync(bytes, { maxOutputLength: limits.maxBytes });
    } catch (err) {
      throw new BadFileError(`not a readable gzip file, or larger than ${limits.maxBytes} bytes once decompressed: ${(err as Error).message}`, { cause: err });
    }
  }
  if (format === 'parquet') return parquetRows(data);
  const text = utf8(data);
  if (format === 'csv') return csvRows(text);
  if (format === 'json') return jsonArrayRows(text);
  return jsonLines(text);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8(data: Uint8Array): string {
  try {
    return strictUtf8.decode(data);
  } catch (err) {
    throw new BadFileError('the file is not valid UTF-8 text', { cause: err });
  }
}

const PARSERS = {
  timestampFromMilliseconds: (ms: bigint | number) => new Micros(BigInt(ms) * 1000n),
  timestampFromMicroseconds: (us: bigint | number) => new Micros(BigInt(us)),
  timestampFromNanoseconds: (ns: bigint | number) => new Micros(BigInt(ns) / 1000n),
  jsonFromBytes: (b: Uint8Array | undefined) => (b ? new JsonText(utf8(b)) : undefined),
  stringFromBytes: (b: Uint8Array | undefined) => (b ? utf8(b) : undefined),
};

async function parquetRows(data: Uint8Array): Promise<FileRow[]> {
  const file = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  return readParquet(() => parquetReadObjects({ file, compressors, parsers: PARSERS }));
}

async function readParquet(read: () => Promise<Array<Record<string, unknown>>>): Promise<FileRow[]> {
  let objects: Array<Record<string, unknown>>;
  try {
    objects = await read();
  } catch (err) {
    if (err instanceof BadFileError) throw err;
    throw new BadFileError(`not a readable Parquet file: ${(err as Error).message}`, { cause: err });
  }
  return objects.map((o) => new Map(Object.entries(o) as Array<[string, FieldValue]>));
}

/** A Parquet file read through byte ranges (a large file is read one row group at a time). */
export interface ParquetRanges {
  metadata: FileMetaData;
  /** each row group's rows, [start, end) */
  groups: Array<[number, number]>;
  /** the largest row group's uncompressed bytes */
  largestGroupBytes: number;
  rows(start: number, end: number): Promise<FileRow[]>;
}

export async function parquetRanges(byteLength: number, read: (start: number, end: number) => Promise<ArrayBuffer>): Promise<ParquetRanges> {
  const file: AsyncBuffer = { byteLength, slice: (start, end) => read(start, end ?? byteLength) };
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file, { parsers: PARSERS });
  } catch (err) {
    throw new BadFileError(`not a readable Parquet file: ${(err as Error).message}`, { cause: err });
  }
  const groups: Array<[number, number]> = [];
  let at = 0;
  let largestGroupBytes = 0;
  for (const g of metadata.row_groups) {
    groups.push([at, at + Number(g.num_rows)]);
    at += Number(g.num_rows);
    largestGroupBytes = Math.max(largestGroupBytes, Number(g.total_byte_size));
  }
  return {
    metadata, groups, largestGroupBytes,
    rows: (start, end) => readParquet(() => parquetReadObjects({ file, metadata, rowStart: start, rowEnd: end, compressors, parsers: PARSERS })),
  };
}

function csvRows(text: string): FileRow[] {
  if (text.trim() === '') return [];
  let records: Array<Record<string, string>>;
  try {
    records = parseCsv(text, { columns: true, bom: true, skip_empty_lines: true, relax_quotes: false }) as Array<Record<string, string>>;
  } catch (err) {
    throw new BadFileError(`not a readable CSV file: ${(err as Error).message}`, { cause: err });
  }
  return records.map((r) => new Map(Object.entries(r)));
}

function jsonArrayRows(text: string): FileRow[] {
  if (text.trim() === '') return [];
  try {
    JSON.parse(text);
  } catch (err) {
    throw new BadFileError(`not a readable JSON file: ${(err as Error).message}`, { cause: err });
  }
  return arrayElements(text).map(([start, end], i) => objectRow(text, start, end, `element ${i + 1}`));
}

function jsonLines(text: string): FileRow[] {
  const rows: FileRow[] = [];
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const s = text.slice(start, end).replace(/\r$/, '');
    start = end + 1;
    if (s.trim() === '') continue;
    try {
      JSON.parse(s);
    } catch (err) {
      throw new BadFileError(`line ${line} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    rows.push(objectRow(s, 0, s.length, `line ${line}`));
  }
  return rows;
}

function objectRow(text: string, start: number, end: number, where: string): FileRow {
  try {
    return objectMembers(text, start, end) as FileRow;
  } catch (err) {
    throw new BadFileError(`${where} is not a JSON object`, { cause: err });
  }
}
