// The ClickHouse source's section of the connector configuration (connector/src/config.ts).
import { z } from 'zod';

const chTable = z.string().regex(/^[^.\s]+$/, 'a table name of the database, without the database');

export const clickhouseSourceSchema = z.strictObject({
  url: z.string().regex(/^https?:\/\/[^\s/]+/, 'the HTTP(S) interface, e.g. http://clickhouse:8123 or https://clickhouse:8443')
    .describe('ClickHouse HTTP interface (https:// for TLS); the user needs SELECT on the tables and on system.parts, system.mutations, system.tables, system.columns'),
  username: z.string().default('default').describe('ClickHouse user (a read-only one: docs/sources/clickhouse.md)'),
  password: z.string().default('').describe('its password; prefer ${env:NAME} or ${file:/path}'),
  caFile: z.string().optional().describe('PEM file of the CA to trust for https:// (default: the system\'s)'),
  database: z.string().default('default').describe('the database holding the tables (Langfuse: CLICKHOUSE_DB, default "default")'),
  tables: z.array(chTable).default([])
    .describe('tables to capture; empty with source.platform langfuse: the tables of the Langfuse generation found (v3: traces, observations, scores; v4: events_full, scores)'),
  keyColumns: z.record(chTable, z.array(z.string()).min(1)).default({})
    .describe('row identity per table; default: the sorting key (ORDER BY), its expressions included as _key_ columns'),
  pollIntervalMs: z.number().int().positive().default(1000).describe('how often system.parts and system.mutations are read for new parts and finished mutations'),
  insertSettleMs: z.number().int().nonnegative().default(60_000)
    .describe('how long an INSERT may take from taking its block number to becoming visible; a part that appears later than this after a later-numbered one is missed (docs/sources/clickhouse.md)'),
  snapshot: z.strictObject({
    mode: z.enum(['initial', 'no_data']).default('initial').describe('initial: read every existing row once, then follow changes; no_data: follow changes from now on'),
  }).prefault({}).describe('the first start (no state in the state topic)'),
  requestTimeoutMs: z.number().int().positive().default(300_000).describe('longest wait for one ClickHouse response (a part read streams within it)'),
}).describe('a ClickHouse database to capture');

export type ClickHouseSourceConfig = z.output<typeof clickhouseSourceSchema>;

/** The key of the source's state in the state topic (here, not in the source: the service reads it without loading the ClickHouse client). */
export function clickhouseStateKey(cfg: { kafka: { topicPrefix: string } }, ch: Pick<ClickHouseSourceConfig, 'database'>): string {
  return `clickhouse:${cfg.kafka.topicPrefix}:${ch.database}`;
}
