// Reading one export file into change rows, with the whole file checked before anything of it is sent: a file
// up to maxFileBytes is read whole and converted once; a larger Parquet file is read one row group at a time
// through byte ranges, twice — first to convert every row (a bad value rejects the file before any row is
// sent), then to hand the rows over group by group — so memory holds one row group, not the file. Text formats
// (CSV, JSON, JSONL) are read whole and past maxFileBytes are refused.
import { fault } from '../../runtime/faults.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import type { ExportTablePreset } from '../../schemas/src/export-presets.ts';
import { convertFile, type ConvertedFile, type ExportColumn, type RowPlace } from './export-rows.ts';
import type { ExportFile } from './export-unit.ts';
import { BadFileError, fileRows, parquetRanges } from './file-rows.ts';
import type { ObjectStore, StoredObject } from './object-store.ts';

/** A file checked whole: its table's columns after it, those it adds, its rows, and the rows to send. */
export interface CheckedFile {
  columns: ExportColumn[];
  added: ExportColumn[];
  rows: number;
  /** the converted rows, in parts (call once, after the table has `columns`) */
  parts(): AsyncGenerator<ConvertedFile>;
}

export interface ReadLimits {
  /** larger files are read by Parquet row group, or refused (text formats) */
  maxFileBytes: number;
}

export async function checkExportFile(store: ObjectStore, file: ExportFile, stored: StoredObject | undefined, columns: ExportColumn[],
  preset: Pick<ExportTablePreset, 'key' | 'version'>, place: RowPlace, limits: ReadLimits): Promise<CheckedFile> {
  if (!stored) {
    throw new TracelakeError(`${file.key} is listed by its export's manifest but not in the bucket`, {
      code: 'FILE_MISSING', remedy: 'check the bucket\'s lifecycle rules and the platform\'s export logs; the run\'s other files were taken',
    });
  }
  const countCheck = (n: number) => {
    if (file.rowCount !== undefined && n !== file.rowCount) throw new BadFileError(`the file has ${n} rows where its manifest says ${file.rowCount}: truncated or rewritten`);
  };
  if (stored.size > limits.maxFileBytes && file.format === 'parquet') return checkByRowGroup(store, file, stored, columns, preset, place, limits, countCheck);
  if (stored.size > limits.maxFileBytes) {
    throw new TracelakeError(`${file.key} has ${stored.size} bytes, more than objectStorage.maxFileBytes (${limits.maxFileBytes}); a ${file.format} file is read whole`, {
      code: 'FILE_TOO_LARGE', remedy: 'raise objectStorage.maxFileBytes with the connector\'s memory (docs/sources/object-storage.md), export Parquet (read by row group), or export more often so files are smaller',
    });
  }
  let bytes: Uint8Array | undefined = await store.get(file.key);
  fault('export-file-read'); // read, nothing of it sent yet
  const rows = await fileRows(bytes, file.format, file.compressed, { maxBytes: limits.maxFileBytes * 8 });
  bytes = undefined; // parsed: only the rows are needed (convertFile drops each once converted)
  countCheck(rows.length);
  const converted = convertFile(rows, columns, preset, place);
  return {
    columns: converted.columns, added: converted.added, rows: converted.rows.length,
    async *parts() { yield converted; },
  };
}

async function checkByRowGroup(store: ObjectStore, file: ExportFile, stored: StoredObject, columns: ExportColumn[],
  preset: Pick<ExportTablePreset, 'key' | 'version'>, place: RowPlace, limits: ReadLimits, countCheck: (n: number) => void): Promise<CheckedFile> {
  const pq = await parquetRanges(stored.size, (start, end) => store.range(file.key, start, end));
  if (pq.largestGroupBytes > limits.maxFileBytes * 8) {
    throw new TracelakeError(`${file.key} has a row group of ${pq.largestGroupBytes} bytes (uncompressed), more than 8 × objectStorage.maxFileBytes`, {
      code: 'FILE_TOO_LARGE', remedy: 'raise objectStorage.maxFileBytes with the connector\'s memory, or write smaller row groups',
    });
  }
  let all = columns;
  const added: ExportColumn[] = [];
  let rows = 0;
  for (const [start, end] of pq.groups) {
    const c = convertFile(await pq.rows(start, end), all, preset, { ...place, firstRow: place.firstRow + start });
    all = c.columns;
    added.push(...c.added);
    rows += c.rows.length;
  }
  countCheck(rows);
  fault('export-file-read'); // checked, nothing of it sent yet
  return {
    columns: all, added, rows,
    async *parts() {
      for (const [start, end] of pq.groups) yield convertFile(await pq.rows(start, end), all, preset, { ...place, firstRow: place.firstRow + start });
    },
  };
}
