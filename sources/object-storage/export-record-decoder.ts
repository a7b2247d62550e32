// The object-storage source's half of the encoder (emitter/encode/change-record.ts): runs on the encoder's thread
// and turns the rows read from export files — already one text per column (export-values.ts) — into change
// records, each an upsert (op u) at its position. Pure.
import { kindMapping } from './export-values.ts';
import type { ColumnKind } from '../../schemas/src/export-presets.ts';
import { tupleSizeHint, type ChangeRecord, type RecordDecoder, type Tuple } from '../../emitter/encode/change-record.ts';
import { avroName, type ColumnSchema, type TableSchema } from '../../schemas/src/envelope.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';

/** What an export table's schema is built from: its columns and their kinds, and its row identity. */
export interface ExportTableSource {
  /** the schema part of topic names: the platform, e.g. langfuse_export */
  schema: string;
  table: string;
  columns: Array<{ name: string; kind: ColumnKind }>;
  keyColumns: string[];
}

/**
 * Rows of one table read from export files. Row i is an upsert at position (`versions[i]`, `seqs[i]`): its
 * version (the row's own update time where it has one, else the export's time, µs) and its place among the rows
 * read (export time and row number), so a later export of the same row wins and the same file read twice
 * gives the same positions.
 */
export interface ExportJob {
  ref: number;
  rows: Tuple[];
  versions: bigint[];
  seqs: bigint[];
}

export function buildExportTable(source: ExportTableSource): TableSchema {
  const qualified = `${source.schema}.${source.table}`;
  const missing = source.keyColumns.filter((k) => !source.columns.some((c) => c.name === k));
  if (missing.length > 0) {
    throw new TracelakeError(`key column(s) ${missing.join(', ')} are not columns of ${qualified}`, {
      code: 'KEY_COLUMN_MISSING', remedy: 'the export files lack the platform\'s id columns: check that they come from the platform the preset names (objectStorage.platform)',
    });
  }
  const seen = new Map<string, string>();
  const columns: ColumnSchema[] = source.columns.map((c) => {
    const field = avroName(c.name);
    const clash = seen.get(field);
    if (clash) throw new TracelakeError(`columns "${clash}" and "${c.name}" of ${qualified} both become Avro field ${field}`, { code: 'COLUMN_NAME_CLASH', remedy: 'rename one of the columns in the export' });
    seen.set(field, c.name);
    return { name: c.name, field, mapping: kindMapping(c.kind), isKey: source.keyColumns.includes(c.name) };
  });
  return { schema: source.schema, table: source.table, columns };
}

export function createRecordDecoder(): RecordDecoder {
  return {
    table: (description) => buildExportTable(description as ExportTableSource),
    reset() {},
    sizeHint: (job) => tupleSizeHint((job as ExportJob).rows),
    records: (job) => records(job as ExportJob),
  };
}

function* records(job: ExportJob): Generator<ChangeRecord> {
  for (let i = 0; i < job.rows.length; i++) {
    const version = job.versions[i]!;
    yield {
      // 'u', never 'c': the sink takes a 'c' for a key that cannot exist yet (an insert-only MERGE), and an
      // exported row may well replace one an earlier export brought
      ref: job.ref, op: 'u', before: null, after: job.rows[i]!,
      position: { commitLsn: version, seq: job.seqs[i]!, lsn: null, txId: null, commitTimeUs: version, snapshot: 'false' },
    };
  }
}
