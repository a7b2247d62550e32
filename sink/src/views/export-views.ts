// llm_spans over the mirrors of exported files (sources/object-storage), with the columns of every platform's
// llm_spans (view-set.ts). Langfuse's export: the enriched observations (observations_v2, trace attributes on
// every row) when exported, else the legacy observations joined with traces; maps arrive as JSON text
// (usage_details, cost_details, metadata). LangSmith's export: one row per run; run type is the span kind, the
// parent run the parent span, and model, user and session come from the run's extra.metadata as LangChain
// writes them. Status uses the shared vocabulary (ERROR, else OK). Pure.
import type { ViewSet } from './view-set.ts';

const json = (col: string, path: string) => `get_json_object(${col}, '$.${path}')`;
const tokens = (details: string) => {
  const n = (key: string) => `try_cast(${json(details, key)} AS BIGINT)`;
  return [`${n('input')} AS prompt_tokens`, `${n('output')} AS completion_tokens`, `coalesce(${n('total')}, ${n('input')} + ${n('output')}) AS total_tokens`];
};
const latency = (a: string) => `(unix_micros(${a}.end_time) - unix_micros(${a}.start_time)) / 1000.0 AS latency_ms`;

/** llm_spans columns of a Langfuse observation row `o` (both export tables have them), with session and user from where the table keeps them. */
function langfuseColumns(session: string, user: string): string[] {
  return [
    'o.trace_id', 'o.id AS span_id', "nullif(o.parent_observation_id, '') AS parent_span_id", 'o.project_id AS project',
    'o.type AS span_kind', 'o.name', "coalesce(nullif(o.provided_model_name, ''), nullif(o.model_id, '')) AS model",
    ...tokens('o.usage_details'),
    `coalesce(o.total_cost, try_cast(${json('o.cost_details', 'total')} AS DOUBLE)) AS cost_usd`,
    latency('o'), "CASE WHEN o.level = 'ERROR' THEN 'ERROR' ELSE 'OK' END AS status", "nullif(o.status_message, '') AS error_message",
    'o.input AS input_text', 'o.output AS output_text', 'o.metadata',
    `nullif(${session}, '') AS session_id`, `nullif(${user}, '') AS user_id`,
    'o.start_time', 'o.end_time', 'o.created_at',
  ];
}

/** Langfuse's enriched observations (export source "observations v2"): trace attributes on every row. */
export const langfuseExportV2Views: ViewSet = {
  required: ['observations_v2'],
  optional: [],
  llmSpans: (t) => `SELECT ${langfuseColumns('o.session_id', 'o.user_id').join(', ')} FROM ${t('observations_v2')} o WHERE NOT o._deleted`,
};

/** Langfuse's legacy export (traces and observations). */
export const langfuseExportLegacyViews: ViewSet = {
  required: ['observations'],
  optional: ['traces'],
  llmSpans(t, has) {
    const traces = has.has('traces');
    const columns = langfuseColumns(traces ? 'tr.session_id' : 'CAST(NULL AS STRING)', traces ? 'tr.user_id' : 'CAST(NULL AS STRING)');
    const from = [
      `${t('observations')} o`,
      ...(traces ? [`LEFT JOIN ${t('traces')} tr ON o.trace_id = tr.id AND o.project_id = tr.project_id AND NOT tr._deleted`] : []),
    ];
    return `SELECT ${columns.join(', ')} FROM ${from.join(' ')} WHERE NOT o._deleted`;
  },
};

/** LangSmith's bulk export of runs. */
export const langsmithExportViews: ViewSet = {
  required: ['runs'],
  optional: [],
  llmSpans(t) {
    const meta = (key: string) => json('r.extra', `metadata.${key}`);
    const columns = [
      'r.trace_id', 'r.id AS span_id', 'r.parent_run_id AS parent_span_id', 'r.session_id AS project',
      'r.run_type AS span_kind', 'r.name',
      `coalesce(${meta('ls_model_name')}, ${json('r.extra', 'invocation_params.model')}, ${json('r.extra', 'invocation_params.model_name')}) AS model`,
      'r.prompt_tokens', 'r.completion_tokens', 'coalesce(r.total_tokens, r.prompt_tokens + r.completion_tokens) AS total_tokens',
      'r.total_cost AS cost_usd', latency('r'),
      "CASE WHEN r.status = 'error' OR nullif(r.error, '') IS NOT NULL THEN 'ERROR' ELSE 'OK' END AS status", "nullif(r.error, '') AS error_message",
      'r.inputs AS input_text', 'r.outputs AS output_text', `${json('r.extra', 'metadata')} AS metadata`,
      `coalesce(${meta('session_id')}, ${meta('thread_id')}, ${meta('conversation_id')}) AS session_id`, `${meta('user_id')} AS user_id`,
      'r.start_time', 'r.end_time', 'r.start_time AS created_at',
    ];
    return `SELECT ${columns.join(', ')} FROM ${t('runs')} r WHERE NOT r._deleted`;
  },
};
