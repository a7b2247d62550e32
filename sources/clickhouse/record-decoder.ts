// The ClickHouse source's half of the encoder (emitter/encode/change-record.ts): runs on the encoder's thread
// and turns the rows a poll read — already exact text, one value per column (clickhouse-types.ts) — into
// change records. Pure.
import { mapClickHouseColumn } from './clickhouse-types.ts';
import { tupleSizeHint, type ChangeRecord, type RecordDecoder, type Tuple } from '../../emitter/encode/change-record.ts';
import { avroName, type ColumnSchema, type Op, type TableSchema } from '../../schemas/src/envelope.ts';
import type { MappingOptions } from '../../schemas/src/pg-types.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import type { RowScope } from '../../schemas/src/row-scope.ts';

/** What a table's schema is built from: its columns as system.columns reports them, and its row identity. */
export interface ClickHouseTableSource {
  database: string;
  table: string;
  columns: Array<{ name: string; type: string }>;
  keyColumns: string[];
  mapping: MappingOptions;
}

/**
 * Rows of one table read by one poll. Row i has op `ops[i]` ('r' snapshot read, 'u' a version inserted (it may replace one the mirror has), 'd' a
 * deletion: an is_deleted version or a row masked by a lightweight DELETE — its last image is `rows[i]`), and
 * position (`versions[i]`, `seqs[i]`): the row's version (the engine's version column, µs for times) and its
 * place among versions (block number and offset in its part), as ClickHouse orders them.
 */
export interface ClickHouseJob {
  ref: number;
  ops: Op[];
  rows: Tuple[];
  versions: bigint[];
  seqs: bigint[];
  /** when the version column is a time, it is the change's time; otherwise when the poll read it (µs) */
  timeIsVersion: boolean;
  readAtUs: bigint;
  /** op 't' rows: the rows the truncate removes (a DELETE's predicate), its row an empty tuple */
  scope?: RowScope;
}

export class KeyColumnMissingError extends TracelakeError {
  constructor(table: string, missing: string[]) {
    super(`key column(s) ${missing.join(', ')} are not columns of ${table}`, {
      code: 'KEY_COLUMN_MISSING', remedy: `set key columns that exist for ${table} (source.clickhouse.keyColumns), or check that the table has the columns its sorting key names`,
    });
  }
}

export function buildClickHouseTable(source: ClickHouseTableSource): TableSchema {
  const qualified = `${source.database}.${source.table}`;
  const missing = source.keyColumns.filter((k) => !source.columns.some((c) => c.name === k));
  if (missing.length > 0 || source.keyColumns.length === 0) throw new KeyColumnMissingError(qualified, missing.length > 0 ? missing : ['(none)']);
  const seen = new Map<string, string>();
  const columns: ColumnSchema[] = source.columns.map((c) => {
    const field = avroName(c.name);
    const clash = seen.get(field);
    if (clash) throw new Error(`columns "${clash}" and "${c.name}" of ${qualified} both become Avro field ${field}`);
    seen.set(field, c.name);
    return { name: c.name, field, mapping: mapClickHouseColumn(c.type, source.mapping, qualified, c.name), isKey: source.keyColumns.includes(c.name) };
  });
  return { schema: source.database, table: source.table, columns };
}

export function createRecordDecoder(): RecordDecoder {
  return {
    table: (description) => buildClickHouseTable(description as ClickHouseTableSource),
    reset() {},
    sizeHint: (job) => tupleSizeHint((job as ClickHouseJob).rows),
    records: (job) => records(job as ClickHouseJob),
  };
}

function* records(job: ClickHouseJob): Generator<ChangeRecord> {
  for (let i = 0; i < job.rows.length; i++) {
    const op = job.ops[i]!;
    const row = job.rows[i]!;
    const version = job.versions[i]!;
    yield {
      ref: job.ref, op,
      before: op === 'd' ? row : null,
      after: op === 'd' || op === 't' ? null : row,
      ...(op === 't' ? { scope: job.scope ?? null } : {}),
      position: {
        commitLsn: version, seq: job.seqs[i]!, lsn: null, txId: null,
        commitTimeUs: job.timeIsVersion ? version : job.readAtUs,
        snapshot: op === 'r' ? 'true' : 'false',
      },
    };
  }
}
