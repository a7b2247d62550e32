// The stack's ClickHouse engine (scripts/stack/clickhouse.sh, started on demand like Phoenix) and a database
// per test, loaded with Langfuse's ClickHouse schema (test/fixtures/langfuse-clickhouse).
import { readFileSync } from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { onDemandService, uniqueName } from './stack.ts';
import type { ConnectorConfigInput } from '../../connector/src/config.ts';

type ClickHouseSection = NonNullable<ConnectorConfigInput['clickhouse']>;

export interface ClickHouseStack {
  url: string;
  httpsUrl: string;
  user: string;
  password: string;
  readerUser: string;
  readerPassword: string;
  caFile: string;
}

let cached: ClickHouseStack | undefined;

/** Starts the stack's ClickHouse if it is not running, and says where it is. */
export function clickhouseStack(): ClickHouseStack {
  if (cached) return cached;
  const get = onDemandService('clickhouse');
  cached = {
    url: get('TL_CLICKHOUSE_URL'), httpsUrl: get('TL_CLICKHOUSE_HTTPS_URL'), user: get('TL_CLICKHOUSE_USER'), password: get('TL_CLICKHOUSE_PASSWORD'),
    readerUser: get('TL_CLICKHOUSE_READER_USER'), readerPassword: get('TL_CLICKHOUSE_READER_PASSWORD'), caFile: get('TL_CLICKHOUSE_CA_FILE'),
  };
  return cached;
}

/** Langfuse's ClickHouse tables of a generation as DDL statements (v4: v3's tables, then the events tables). */
export function langfuseSchema(generation: 'v3' | 'v4'): string[] {
  return (generation === 'v3' ? ['v3.sql'] : ['v3.sql', 'v4.sql']).flatMap((f) =>
    readFileSync(new URL(`../fixtures/langfuse-clickhouse/${f}`, import.meta.url), 'utf8')
      .split('\n').filter((l) => !l.startsWith('--')).join('\n')
      .split(';').map((s) => s.trim()).filter(Boolean));
}

export interface ClickHouseFixture {
  database: string;
  client: ClickHouseClient;
  exec(sql: string): Promise<void>;
  insert(table: string, rows: Array<Record<string, unknown>>): Promise<void>;
  /** rows of a query as objects (JSONEachRow) */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** the connector's clickhouse section for this database */
  source(overrides?: Partial<ClickHouseSection>): ClickHouseSection;
  cleanup(): Promise<void>;
}

/** A fresh database with Langfuse's tables of `generation` (v3: traces, observations, scores; v4: those plus the events tables). */
export async function clickhouseFixture(prefix: string, generation: 'v3' | 'v4' | 'none', name = uniqueName(prefix).toLowerCase()): Promise<ClickHouseFixture> {
  const ch = clickhouseStack();
  const client = createClient({ url: ch.url, username: ch.user, password: ch.password, clickhouse_settings: { session_timezone: 'UTC' } });
  const exec = async (sql: string) => { await client.command({ query: sql }); };
  await exec(`CREATE DATABASE IF NOT EXISTS ${name}`);
  const ddl = createClient({ url: ch.url, username: ch.user, password: ch.password, database: name });
  for (const statement of generation === 'none' ? [] : langfuseSchema(generation)) await ddl.command({ query: statement });
  await ddl.close();
  return {
    database: name, client, exec,
    async insert(table, rows) {
      await client.insert({ table: `${name}.${table}`, values: rows, format: 'JSONEachRow' });
    },
    async rows<T>(sql: string) {
      return (await (await client.query({ query: sql, format: 'JSONEachRow' })).json()) as T[];
    },
    // the connector reads as the stack's read-only user (readonly = 2), as docs/sources/clickhouse.md advises
    source: (overrides = {}) => ({ url: ch.url, username: ch.readerUser, password: ch.readerPassword, database: name, pollIntervalMs: 300, ...overrides }),
    async cleanup() {
      await exec(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
      await client.close();
    },
  };
}
