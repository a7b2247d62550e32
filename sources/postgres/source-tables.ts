// Which tables the Postgres source captures, checked before anything is read: each exists, has a key and a
// replica identity that carries it; preset tables are compared with the checked-in schemas, and for Langfuse
// the source says which generation it found and what that means for trace data.
import type pg from 'pg';
import type { Logger } from 'pino';
import { tableInfo, type TableInfo, type TypeCatalog } from './catalog.ts';
import type { TableSource } from './record-decoder.ts';
import { captureList } from './capture-list.ts';
import { presetDrift } from './preset-schemas.ts';
import { qualifiedIdent } from './slot.ts';
import type { ConnectorConfig } from '../../connector/src/config.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { LANGFUSE_TRACE_TABLES } from '../../schemas/src/platforms.ts';

type SourceConfig = ConnectorConfig['source'];

/** The captured tables as the catalog describes them; a missing or keyless table is a clear error. */
export async function describeTables(db: pg.Client, source: SourceConfig, log: Logger, traceTablesInClickHouse = false): Promise<TableInfo[]> {
  const out: TableInfo[] = [];
  const { tables, fromPreset, excluded } = captureList(source, traceTablesInClickHouse);
  for (const [t, why] of Object.entries(excluded)) log.info({ table: t, reason: why }, 'not captured by the preset');
  for (const qualified of tables) {
    const [schema, table] = qualified.split('.') as [string, string];
    const info = await tableInfo(db, schema, table);
    if (!info && fromPreset) {
      log.info({ table: qualified }, 'preset table not in this database version; skipped');
      continue;
    }
    if (!info) {
      throw new TracelakeError(`table ${qualified} does not exist (or is not a table)`, {
        code: 'TABLE_MISSING', remedy: 'check source.tables, and that the connector user can see the table',
      });
    }
    if (info.replicaIdentity === 'nothing') {
      throw new TracelakeError(`table ${qualified} has REPLICA IDENTITY NOTHING: its updates and deletes carry no key`, {
        code: 'REPLICA_IDENTITY', remedy: `ALTER TABLE ${qualified} REPLICA IDENTITY DEFAULT (with a primary key) or FULL, or exclude it`,
      });
    }
    if (info.primaryKey.length === 0 && !source.keyColumns[qualified]) {
      throw new TracelakeError(`table ${qualified} has no primary key`, {
        code: 'MISSING_PRIMARY_KEY', remedy: `add a primary key, or set source.keyColumns["${qualified}"] (and REPLICA IDENTITY FULL or USING INDEX)`,
      });
    }
    out.push(info);
  }
  return out;
}

/** What the platform preset implies: schema drift against the checked-in schemas, and Langfuse's generation. */
export async function reportPlatform(db: pg.Client, source: SourceConfig, tables: TableInfo[], log: Logger, traceTablesInClickHouse = false): Promise<void> {
  if (source.platform === 'langfuse' && !traceTablesInClickHouse) await reportLangfuseGeneration(db, source, tables, log);
  if (source.platform !== 'custom') await reportPresetDrift(db, source, tables, log);
}

/** Compares the live preset tables with the schemas checked in under schemas/avro/<platform>/. */
async function reportPresetDrift(db: pg.Client, source: SourceConfig, tables: TableInfo[], log: Logger): Promise<void> {
  const { platform, decimalMode, unknownTypes, keyColumns } = source;
  for (const drift of await presetDrift(db, platform, tables, { decimalMode, unknownTypes }, keyColumns)) {
    if (drift.added.length > 0) log.info({ table: drift.table, added: drift.added }, `${platform} added columns since the checked-in schema: captured as a schema evolution`);
    if (drift.removed.length > 0 || drift.retyped.length > 0) {
      log.warn({ table: drift.table, removed: drift.removed, retyped: drift.retyped }, `${platform} table differs from the checked-in schema`);
    }
  }
}

/** Langfuse: say which generation the database is, and what that means for trace data. */
async function reportLangfuseGeneration(db: pg.Client, source: SourceConfig, present: TableInfo[], log: Logger): Promise<void> {
  const have = new Set(present.map((t) => t.table));
  const traceTables = LANGFUSE_TRACE_TABLES.filter((t) => have.has(t));
  if (traceTables.length === LANGFUSE_TRACE_TABLES.length) {
    const { rows } = await db.query(`SELECT 1 FROM ${qualifiedIdent(source.schema, 'observations')} LIMIT 1`);
    log.info({ generation: 'v2 (or v3 with legacy tables)', observations: rows.length > 0 ? 'present' : 'empty' },
      'Langfuse keeps traces, observations and scores in Postgres here: they are captured');
    if (rows.length === 0) log.warn('the observations table is empty: on Langfuse v3 trace data lives in ClickHouse; add the clickhouse section to capture it');
  } else {
    log.warn({ generation: 'v4 or later' },
      'Langfuse v3/v4 keeps traces, observations and scores in ClickHouse: only the Postgres tables (projects, prompts, datasets, models, …) are captured; add the clickhouse section to capture the traces too');
  }
}

/** What a captured table's schema is built from (record-decoder.ts): its columns, key and resolved types. */
export async function tableSource(t: TableInfo, catalog: TypeCatalog, source: SourceConfig): Promise<TableSource> {
  const types = await catalog.resolve(t.columns.map((c) => c.typeOid));
  return {
    schema: t.schema, table: t.table, columns: t.columns.map(({ name, typeOid, typeMod }) => ({ name, typeOid, typeMod })),
    keyColumns: source.keyColumns[`${t.schema}.${t.table}`] ?? t.primaryKey, types: [...types.values()],
    mapping: { decimalMode: source.decimalMode, unknownTypes: source.unknownTypes },
  };
}
