// llm_spans over Langfuse v3 and v4 trace tables mirrored from ClickHouse (sources/clickhouse), with the columns
// of every platform's llm_spans (view-set.ts). ClickHouse maps arrive as JSON text (usage_details,
// cost_details, metadata), arrays as ARRAY<STRING>; Langfuse's level becomes the shared status vocabulary
// (ERROR, else OK). projects comes from Postgres and is joined when mirrored. Pure.
import type { ViewSet } from './view-set.ts';

const usage = (col: string, key: string) => `try_cast(get_json_object(${col}, '$.${key}') AS BIGINT)`;
/** prompt, completion and total tokens from Langfuse's usage_details (total: its own, else input + output) */
const tokens = (details: string) => [
  `${usage(details, 'input')} AS prompt_tokens`, `${usage(details, 'output')} AS completion_tokens`,
  `coalesce(${usage(details, 'total')}, ${usage(details, 'input')} + ${usage(details, 'output')}) AS total_tokens`,
];
const status = (level: string) => `CASE WHEN ${level} = 'ERROR' THEN 'ERROR' ELSE 'OK' END`;
const project = (has: Set<string>, projectId: string) => (has.has('projects') ? `coalesce(p.name, ${projectId})` : projectId);
const projectJoin = (t: (n: string) => string, has: Set<string>, projectId: string) =>
  (has.has('projects') ? [`LEFT JOIN ${t('projects')} p ON ${projectId} = p.id AND NOT p._deleted`] : []);

/** v4: one wide, observations-first row per span in events_full, trace attributes on every row. */
export const langfuseV4Views: ViewSet = {
  required: ['events_full'],
  optional: ['projects'],
  llmSpans(t, has) {
    const columns = [
      'e.trace_id', 'e.span_id', "nullif(e.parent_span_id, '') AS parent_span_id", `${project(has, 'e.project_id')} AS project`,
      'e.type AS span_kind', 'e.name', "coalesce(nullif(e.provided_model_name, ''), nullif(e.model_id, '')) AS model",
      ...tokens('e.usage_details'),
      "try_cast(get_json_object(e.cost_details, '$.total') AS DOUBLE) AS cost_usd",
      '(unix_micros(e.end_time) - unix_micros(e.start_time)) / 1000.0 AS latency_ms',
      `${status('e.level')} AS status`, "nullif(e.status_message, '') AS error_message",
      'e.input AS input_text', 'e.output AS output_text',
      'to_json(map_from_arrays(e.metadata_names, e.metadata_values)) AS metadata',
      "nullif(e.session_id, '') AS session_id", "nullif(e.user_id, '') AS user_id",
      'e.start_time', 'e.end_time', 'e.created_at',
    ];
    return `SELECT ${columns.join(', ')} FROM ${[`${t('events_full')} e`, ...projectJoin(t, has, 'e.project_id')].join(' ')} WHERE NOT e._deleted`;
  },
};

/** v3: observations ⋈ traces, both from ClickHouse (told from v2's Postgres observations by usage_details). */
export const langfuseV3Views: ViewSet = {
  required: ['observations'],
  optional: ['traces', 'projects'],
  marker: { table: 'observations', column: 'usage_details' },
  llmSpans(t, has) {
    const traces = has.has('traces');
    const columns = [
      'o.trace_id', 'o.id AS span_id', 'o.parent_observation_id AS parent_span_id', `${project(has, 'o.project_id')} AS project`,
      'o.type AS span_kind', 'o.name', "coalesce(nullif(o.provided_model_name, ''), o.internal_model_id) AS model",
      ...tokens('o.usage_details'),
      "coalesce(CAST(o.total_cost AS DOUBLE), try_cast(get_json_object(o.cost_details, '$.total') AS DOUBLE)) AS cost_usd",
      '(unix_micros(o.end_time) - unix_micros(o.start_time)) / 1000.0 AS latency_ms',
      `${status('o.level')} AS status`, "nullif(o.status_message, '') AS error_message",
      'o.input AS input_text', 'o.output AS output_text', 'o.metadata',
      `${traces ? 'tr.session_id' : 'CAST(NULL AS STRING)'} AS session_id`,
      `${traces ? 'tr.user_id' : 'CAST(NULL AS STRING)'} AS user_id`,
      'o.start_time', 'o.end_time', 'o.created_at',
    ];
    const from = [
      `${t('observations')} o`,
      ...(traces ? [`LEFT JOIN ${t('traces')} tr ON o.trace_id = tr.id AND o.project_id = tr.project_id AND NOT tr._deleted`] : []),
      ...projectJoin(t, has, 'o.project_id'),
    ];
    return `SELECT ${columns.join(', ')} FROM ${from.join(' ')} WHERE NOT o._deleted`;
  },
};
