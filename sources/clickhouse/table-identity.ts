// What identifies a row of a ReplacingMergeTree table and which of its versions wins, read from the table's
// engine and sorting key as system.tables reports them. Pure.
import { splitTopLevel } from './sql-text.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';

export interface TableIdentity {
  /** the sorting key's plain columns: the row identity the Delta mirror upserts by */
  keyColumns: string[];
  /** sorting-key expressions that are not plain columns (e.g. toDate(timestamp)): treated as functions of the row, see docs */
  derivedKeys: string[];
  /** the engine's version column (ReplacingMergeTree(ver, …)); null: the last inserted version wins */
  versionColumn: string | null;
  /** the engine's is_deleted column (ReplacingMergeTree(ver, is_deleted)): a version with 1 deletes the row */
  deletedColumn: string | null;
  /** rows keep their block number through merges (SETTINGS enable_block_number_column = 1) */
  blockNumbers: boolean;
}

export class UnsupportedEngineError extends TracelakeError {
  constructor(table: string, engine: string) {
    super(`table ${table} has engine ${engine}; the ClickHouse source captures (Replicated|Shared)ReplacingMergeTree tables, whose rows have an identity`, {
      code: 'UNSUPPORTED_ENGINE', remedy: `exclude ${table} from capture`,
    });
  }
}

function unquote(name: string): string {
  const m = /^`(.*)`$/s.exec(name) ?? /^"(.*)"$/s.exec(name);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : name;
}

export function tableIdentity(table: string, engine: string, engineFull: string, sortingKey: string): TableIdentity {
  if (!/ReplacingMergeTree$/.test(engine)) throw new UnsupportedEngineError(table, engine);
  const head = /^\w*ReplacingMergeTree\s*(\((?:[^()]|\([^()]*\))*\))?/.exec(engineFull.trim());
  let args = head?.[1] ? splitTopLevel(head[1].slice(1, -1)) : [];
  // Replicated/Shared engines take the ZooKeeper path and replica name first: quoted strings
  while (args.length > 0 && /^'/.test(args[0]!)) args = args.slice(1);
  const keyColumns: string[] = [];
  const derivedKeys: string[] = [];
  for (const k of splitTopLevel(sortingKey)) {
    if (/^(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)$/.test(k)) keyColumns.push(unquote(k));
    else derivedKeys.push(k);
  }
  return {
    keyColumns, derivedKeys,
    versionColumn: args[0] ? unquote(args[0]) : null,
    deletedColumn: args[1] ? unquote(args[1]) : null,
    blockNumbers: /\benable_block_number_column\s*=\s*(1|true)\b/i.test(engineFull),
  };
}
