// The connector's configuration: one zod schema that validates at start, supplies the defaults, and
// documents every field (docs and the Helm values schema are generated from it).
import { z } from 'zod';
import { parseConfig } from '../../runtime/config/parse.ts';
import { httpSchema, lifecycleSchema, registryFields } from '../../runtime/config/common.ts';
import { kafkaConnectionFields } from '../../runtime/kafka.ts';
import { compressionField } from '../../runtime/kafka-compression.ts';
import { clickhouseSourceSchema } from '../../sources/clickhouse/clickhouse-config.ts';
import { objectStorageSourceSchema } from '../../sources/object-storage/object-storage-config.ts';

/** 96 MiB: a produce request of one such batch still fits the broker's default socket.request.max.bytes (100 MiB). */
const MAX_MESSAGE_BYTES = 96 << 20;

const tableName = z.string().regex(/^[^.\s]+\.[^.\s]+$/, 'write tables as schema.table, e.g. public.spans');
const simpleName = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'use lower-case letters, digits and _ (a Postgres identifier that needs no quoting)');

export const connectorConfigSchema = z.strictObject({
  source: z.strictObject({
    url: z.string().startsWith('postgres', 'a postgres:// connection URL').optional()
      .describe('Postgres connection URL (user needs REPLICATION and SELECT on the tables); omit it when only a ClickHouse database or exported files are captured'),
    platform: z.enum(['phoenix', 'langfuse', 'custom']).default('custom').describe('phoenix / langfuse: capture the preset tables of that platform (schemas/src/platforms.ts) unless tables is given'),
    schema: z.string().default('public').describe('the platform\'s Postgres schema (with platform presets)'),
    tables: z.array(tableName).default([]).describe('tables to capture, schema.table (required with platform custom)'),
    keyColumns: z.record(tableName, z.array(z.string()).min(1)).default({}).describe('key columns for tables without a primary key'),
    publication: z.strictObject({
      name: simpleName.default('tracelake').describe('publication the slot streams'),
      autocreate: z.enum(['filtered', 'disabled']).default('filtered').describe('filtered: create/alter the publication for exactly the captured tables; disabled: it must exist'),
    }).prefault({}).describe('the Postgres publication (which tables the slot decodes)'),
    slot: z.strictObject({
      name: simpleName.default('tracelake').describe('logical replication slot (pgoutput); one per connector'),
      whenBusy: z.enum(['wait', 'fail']).default('wait').describe('when another process streams the slot: wait for it to be released, or fail'),
    }).prefault({}).describe('the replication slot'),
    snapshot: z.strictObject({
      mode: z.enum(['initial', 'no_data', 'when_needed', 'initial_only']).default('initial')
        .describe('initial: snapshot once, then stream; no_data: stream only; when_needed: also snapshot again when the slot was lost; initial_only: snapshot and stop (Debezium snapshot.mode)'),
      chunkRows: z.number().int().positive().default(10_000).describe('rows per snapshot query (memory bound)'),
      readers: z.number().int().min(1).max(16).default(1)
        .describe('connections reading a table\'s block ranges in parallel at the one exported snapshot (PostgreSQL 14+; partitioned tables use one, in key order). More help only while the connector has CPU to spare: on 2 cores 2 readers were slower than 1 (docs/benchmarks.md)'),
    }).prefault({}).describe('the initial snapshot'),
    decimalMode: z.enum(['precise', 'string', 'double']).default('precise').describe('numerics beyond decimal(38) or unconstrained are strings in precise mode'),
    unknownTypes: z.enum(['fail', 'string']).default('fail').describe('a column type without a mapping: fail at start naming it, or capture its text rendering as a string'),
    heartbeatIntervalMs: z.number().int().nonnegative().default(10_000).describe('pg_logical_emit_message interval that keeps an idle slot advancing; 0 = off'),
    statusIntervalMs: z.number().int().positive().default(10_000).describe('standby status update interval'),
  }).describe('the Postgres database to capture'),
  clickhouse: clickhouseSourceSchema.optional()
    .describe('a ClickHouse database captured beside the Postgres one (Langfuse v3/v4 keep traces, observations and scores there): docs/sources/clickhouse.md'),
  objectStorage: objectStorageSourceSchema.optional()
    .describe('a bucket prefix a trace platform exports files to (Langfuse blob-storage export, LangSmith bulk export): docs/sources/object-storage.md'),
  kafka: z.strictObject({
    ...kafkaConnectionFields,
    topicPrefix: z.string().regex(/^[A-Za-z0-9._-]+$/).default('tracelake').describe('change topics are <topicPrefix>.<schema>.<table>'),
    partitions: z.number().int().positive().default(3).describe('partitions of each change topic it creates (events keyed by primary key)'),
    replicationFactor: z.number().int().positive().default(1).describe('replication factor of the topics it creates'),
    topicConfig: z.record(z.string(), z.string()).default({}).describe('extra topic configs for created topics, e.g. {"retention.ms": "604800000"} (these win over the ones below)'),
    compression: compressionField,
    maxMessageBytes: z.number().int().min(1 << 20).default(MAX_MESSAGE_BYTES)
      .describe('max.message.bytes of the change topics it creates: the largest (compressed) record batch a topic accepts. The default fits a 64 MiB row and stays under the broker\'s socket.request.max.bytes (100 MiB by default); topics created elsewhere need their own (docs/connector.md, "Large values")'),
    tombstonesOnDelete: z.boolean().default(true).describe('send a tombstone (null value) after each delete, for log compaction'),
    stateTopic: z.string().default('tracelake-connector-state').describe('compacted topic for the connector state; must not look like a change topic'),
  }).describe('the Kafka cluster change events go to'),
  registry: z.strictObject({
    ...registryFields,
  }).describe('schema registry the Avro schemas are registered in (TopicNameStrategy, BACKWARD)'),
  batching: z.strictObject({
    maxMessages: z.number().int().positive().default(5_000).describe('messages per produce batch'),
    maxBytes: z.number().int().positive().default(900_000)
      .describe('bytes per produce batch (before compression); a larger event goes in a batch of its own'),
    lingerMs: z.number().int().nonnegative().default(20).describe('how long a batch may wait for more events after a commit'),
  }).prefault({}).describe('Kafka produce batching'),
  limits: z.strictObject({
    maxColumnBytes: z.number().int().positive().default(32 << 20).describe('largest value of one column (UTF-8 bytes of its text); a larger one fails the connector naming table, key and column, and nothing of it is sent. 32 MiB: Phoenix keeps a prompt twice in one attributes column, so a 16 MB prompt makes a 32 MB value'),
    maxRowBytes: z.number().int().positive().default(64 << 20).describe('largest row image (all its values); a larger one fails the same way'),
    oversize: z.enum(['fail', 'dead-letter']).default('fail')
      .describe('a row past the ceiling: fail (stop naming table, key and column; nothing acknowledged) or dead-letter (send a record naming the row, its position and sizes to deadLetterTopic instead of its change, and go on)'),
    tables: z.record(tableName, z.strictObject({
      oversize: z.enum(['fail', 'dead-letter']).describe('this table\'s choice'),
    })).default({}).describe('per-table oversize choice, schema.table → { oversize }'),
    deadLetterTopic: z.string().optional().describe('where dead-lettered rows go (default <topicPrefix>.dead-letter; created with the change topics)'),
  }).prefault({}).describe('the size ceiling of captured rows and what happens past it (docs/connector.md, "Large values")'),
  encoder: z.strictObject({
    workerThread: z.boolean().default(true)
      .describe('decode row changes and encode Avro on a worker thread, a second core beside the one reading Postgres and writing Kafka (docs/benchmarks.md); false does all of it on the main thread'),
  }).prefault({}).describe('where change events are decoded and encoded'),
  http: httpSchema(8083),
  ...lifecycleSchema,
}).superRefine((c, ctx) => {
  const seen = new Set<string>();
  c.source.tables.forEach((t, i) => {
    if (seen.has(t)) ctx.addIssue({ code: 'custom', path: ['source', 'tables', i], message: `${t} is listed twice: list each table once` });
    seen.add(t);
  });
  if (!c.source.url && !c.clickhouse && !c.objectStorage) {
    ctx.addIssue({ code: 'custom', path: ['source', 'url'], message: 'name what to capture: source.url (Postgres), clickhouse, or objectStorage' });
  }
  if (c.source.url && c.source.platform === 'custom' && c.source.tables.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['source', 'tables'], message: 'name at least one table to capture (or set source.platform)' });
  }
});

export type ConnectorConfig = z.output<typeof connectorConfigSchema>;
export type ConnectorConfigInput = z.input<typeof connectorConfigSchema>;

/** Validates; every problem is listed with its field path and what is expected. */
export function parseConnectorConfig(input: unknown): ConnectorConfig {
  return parseConfig(connectorConfigSchema, input, 'connector');
}
