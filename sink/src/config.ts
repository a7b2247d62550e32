// The sink's configuration: one zod schema for validation, defaults and documentation.
import { z } from 'zod';
import { parseConfig } from '../../runtime/config/parse.ts';
import { httpSchema, lifecycleSchema, registryFields } from '../../runtime/config/common.ts';
import { kafkaConnectionFields } from '../../runtime/kafka.ts';

/** Delta table properties (TBLPROPERTIES) of the tables the sink creates; config, never row data */
const tableProperties = z.record(z.string(), z.string().regex(/^[^'\\$]*$/, 'a property value without quotes, backslashes or $'))
  .superRefine((props, ctx) => {
    for (const name of Object.keys(props)) {
      if (!/^[A-Za-z][A-Za-z0-9_.]*$/.test(name)) ctx.addIssue({ code: 'custom', path: [name], input: name, message: 'a property name: letters, digits, _ and .' });
    }
  });

/** deletion vectors, as Databricks enables them on new tables (see tableProperties below) */
export const DEFAULT_TABLE_PROPERTIES: Readonly<Record<string, string>> = { 'delta.enableDeletionVectors': 'true' };

const tableSettings = z.strictObject({
  deleteMode: z.enum(['hard', 'soft']).optional().describe('overrides sink.deleteMode for this table'),
  clusterBy: z.array(z.string()).default([]).describe('liquid clustering columns, e.g. [start_time, project_id]'),
  name: z.string().optional().describe('Delta table name (default: the source table name with tablePrefix)'),
  tableProperties: tableProperties.optional().describe('Delta table properties for this table, over sink.tableProperties'),
});

export const sinkConfigSchema = z.strictObject({
  kafka: z.strictObject({
    ...kafkaConnectionFields,
    groupId: z.string().default('tracelake-sink').describe('consumer group; sink replicas share it (at most one per partition is busy)'),
    topicPrefix: z.string().default('tracelake').describe('consume every topic <topicPrefix>.<schema>.<table>'),
    sessionTimeoutMs: z.number().int().min(6_000).default(10_000).describe('consumer group session timeout: a replica that died without leaving the group (kill -9, a lost node) holds its partitions this long before a restarted or another replica takes them over (Kafka Connect\'s default; heartbeats go every 3 s from the client\'s background, during MERGEs too; with groupInstanceId a restarted replica takes its partitions back at once)'),
    topicRefreshMs: z.number().int().positive().default(10_000).describe('how often to look for new change topics'),
    groupInstanceId: z.string().min(1).optional().describe('static group membership (KIP-345): a stable identity per replica (e.g. the pod name of a StatefulSet). A replica restarted with the same identity within sessionTimeoutMs gets its partitions back at once, without a rebalance; unset, a restarted replica waits for the session of its previous self to expire'),
  }).describe('the Kafka cluster with the change topics'),
  registry: z.strictObject({
    ...registryFields,
  }),
  warehouse: z.strictObject({
    host: z.string().min(1).describe('server hostname of the Databricks SQL warehouse'),
    port: z.number().int().positive().default(443).describe('HTTPS port of the warehouse'),
    path: z.string().startsWith('/').describe('HTTP path of the warehouse, /sql/1.0/warehouses/<id>'),
    token: z.string().min(1).optional().describe('personal access token (prefer ${env:NAME}, ${file:/path} or TRACELAKE_WAREHOUSE_TOKEN); or use oauth'),
    oauth: z.strictObject({
      clientId: z.string().min(1).describe('application (client) id of the service principal'),
      clientSecret: z.string().min(1).describe('its OAuth secret (prefer ${env:NAME} or ${file:/path})'),
    }).optional().describe('OAuth machine-to-machine with a Databricks service principal, instead of a token'),
    caCertFile: z.string().optional().describe('PEM file of a private CA to trust'),
    catalog: z.string().optional().describe('Unity Catalog catalog; omit for two-part names'),
    schema: z.string().default('tracelake').describe('target schema (created when missing)'),
    tablePrefix: z.string().default('').describe('prefix of every Delta table and view name'),
    concurrency: z.number().int().min(1).max(32).default(3)
      .describe('statements run at once, each on its own warehouse session: tables merge side by side (each its own lane, its offsets committed after its MERGE), and tables are prepared ahead of their first event beside them'),
  }).describe('the Databricks SQL warehouse the Delta tables are written through'),
  batching: z.strictObject({
    maxRows: z.number().int().positive().default(20_000).describe('events collected (all tables together) at which batches are merged at once and the consumer waits; also the most events merging at once'),
    maxBytes: z.number().int().positive().default(16 * 1024 * 1024).describe('… or this many bytes collected (at most about twice that is in memory: what merges and what is collected)'),
    maxWaitMs: z.number().int().positive().default(2_000).describe('a table\'s batch is merged at most this long after its first event, or as soon as that table\'s previous batch is in (each table merges in its own lane)'),
    maxStatementBytes: z.number().int().positive().max(16 * 1024 * 1024).default(15 * 1024 * 1024).describe('larger batches are split into several MERGE statements, each at most this long (Databricks takes at most 16 MiB of statement text; every MERGE costs the warehouse a fixed time, so fewer larger ones keep up with more rows/s)'),
    maxStatementRows: z.number().int().positive().default(20_000).describe('rows per MERGE statement'),
  }).prefault({}).describe('micro-batches, one lane per table: closed by time, or by rows or bytes collected in all, whichever first'),
  platform: z.enum(['phoenix', 'langfuse', 'langfuse-export', 'langsmith-export', 'custom']).default('custom')
    .describe('phoenix / langfuse / langfuse-export / langsmith-export: create the llm_spans, llm_spans_lean and llm_daily views over that platform\'s tables (the export ones: over the tables of exported files)'),
  deleteMode: z.enum(['hard', 'soft']).default('hard').describe('hard: delete the row; soft: keep it with _deleted = true'),
  tableProperties: tableProperties.default({ ...DEFAULT_TABLE_PROPERTIES })
    .describe('Delta table properties (TBLPROPERTIES) of the tables the sink creates (tables that exist keep theirs). Deletion vectors by default, as Databricks enables them on new tables: a MERGE that updates a few rows of a file marks them deleted instead of rewriting the file; {} for readers without deletion-vector support'),
  tables: z.record(z.string(), tableSettings).default({}).describe('per source table (schema.table) settings'),
  errors: z.strictObject({
    tolerance: z.enum(['none', 'all']).default('none').describe('none: stop on a poison record; all: send it to the dead-letter topic and go on'),
    deadLetterTopic: z.string().optional().describe('topic for records that cannot be decoded or merged (with __connect.errors.* headers)'),
  }).prefault({}).describe('what to do with a poison record'),
  http: httpSchema(8084),
  ...lifecycleSchema,
}).superRefine((c, ctx) => {
  if (!c.warehouse.token === !c.warehouse.oauth) {
    ctx.addIssue({ code: 'custom', path: ['warehouse', c.warehouse.token ? 'oauth' : 'token'], message: c.warehouse.token ? 'give warehouse.token or warehouse.oauth, not both' : 'required: a token, or warehouse.oauth with a service principal\'s clientId and clientSecret' });
  }
  const names = new Map<string, string>();
  for (const [source, t] of Object.entries(c.tables)) {
    if (!t.name) continue;
    const other = names.get(t.name.toLowerCase());
    if (other) ctx.addIssue({ code: 'custom', path: ['tables', source, 'name'], message: `"${t.name}" is already the Delta name of ${other}: each source table needs its own` });
    names.set(t.name.toLowerCase(), source);
  }
  if (c.errors.tolerance === 'all' && !c.errors.deadLetterTopic) {
    ctx.addIssue({ code: 'custom', path: ['errors', 'deadLetterTopic'], message: 'required when errors.tolerance is all' });
  }
});

export type SinkConfig = z.output<typeof sinkConfigSchema>;
export type SinkConfigInput = z.input<typeof sinkConfigSchema>;

export function parseSinkConfig(input: unknown): SinkConfig {
  return parseConfig(sinkConfigSchema, input, 'sink');
}
