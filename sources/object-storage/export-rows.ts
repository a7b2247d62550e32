// The rows of one export file as change rows of its table: one text per column in the table's column order
// (export-values.ts), a position per row, and the columns the file adds to the table (schema evolution). A
// file is converted whole before anything of it is sent, so a file with a bad value is rejected as a whole.
// Pure.
import { BadFileError, type FieldValue, type FileRow } from './file-rows.ts';
import { kindOf, valueText } from './export-values.ts';
import type { Tuple } from '../../emitter/encode/change-record.ts';
import type { ColumnKind, ExportTablePreset } from '../../schemas/src/export-presets.ts';

const CONSUMED: FileRow = new Map();

export interface ExportColumn {
  name: string;
  kind: ColumnKind;
}

export interface ConvertedFile {
  /** the table's columns: the ones it had, then those this file adds */
  columns: ExportColumn[];
  added: ExportColumn[];
  rows: Tuple[];
  versions: bigint[];
  seqs: bigint[];
}

export interface RowPlace {
  /** the file's key, for errors */
  file: string;
  table: string;
  /** the export's time (µs): the version of rows without their own, and the high half of their order */
  unitTimeUs: bigint;
  /** the number of the file's first row here (a row group's offset; 0 for a whole file): the low half of their order */
  firstRow: number;
  pathColumns?: Record<string, string>;
}

/** Converts the file's rows; consumes them (each row is dropped from `rows` once converted, so a large file is not held twice). */
export function convertFile(rows: FileRow[], columns: ExportColumn[], preset: Pick<ExportTablePreset, 'key' | 'version'>, at: RowPlace): ConvertedFile {
  const known = new Set(columns.map((c) => c.name));
  const added: ExportColumn[] = [];
  const path = Object.entries(at.pathColumns ?? {});
  for (const row of rows) {
    for (const [name, v] of row) {
      if (known.has(name) || v === null || v === undefined) continue;
      known.add(name);
      added.push({ name, kind: kindOf(v) });
    }
  }
  for (const [name] of path) if (!known.has(name)) { known.add(name); added.push({ name, kind: 'string' }); }
  const all = [...columns, ...added];
  const keyIndex = preset.key.map((k) => all.findIndex((c) => c.name === k));
  const seqHigh = (at.unitTimeUs / 1_000_000n) << 32n;
  const out: ConvertedFile = { columns: all, added, rows: [], versions: [], seqs: [] };
  rows.forEach((row, i) => {
    for (const [name, v] of path) if (row.get(name) === undefined || row.get(name) === null) row.set(name, v);
    const tuple: Tuple = all.map((c) => {
      try {
        return valueText(row.get(c.name), c.kind);
      } catch (err) {
        throw new BadFileError(`row ${i + 1}, column ${c.name} (${c.kind}): ${(err as Error).message}`, { cause: err });
      }
    });
    keyIndex.forEach((k, j) => {
      if (k < 0 || tuple[k] === null) throw new BadFileError(`row ${i + 1} has no ${preset.key[j]}, the key of ${at.table}`);
    });
    const version = preset.version ? row.get(preset.version) : undefined;
    out.rows.push(tuple);
    out.versions.push(version === undefined || version === null || version === '' ? at.unitTimeUs : versionMicros(version, preset.version!, i));
    out.seqs.push(seqHigh | BigInt(at.firstRow + i));
    rows[i] = CONSUMED;
  });
  return out;
}

function versionMicros(v: FieldValue, column: string, i: number): bigint {
  try {
    return BigInt(valueText(v, 'timestamp')!);
  } catch (err) {
    throw new BadFileError(`row ${i + 1}, column ${column}: ${(err as Error).message}`, { cause: err });
  }
}
