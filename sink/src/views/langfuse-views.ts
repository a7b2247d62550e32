// llm_spans over mirrored Langfuse v2 tables (observations ⋈ traces ⋈ projects), with the same columns as
// Phoenix's (the lean and daily views are derived from it, see view-set.ts). Langfuse keeps costs as numeric(65,30), carried as exact decimal strings: the views
// cast them to DOUBLE. input/output/metadata are jsonb, rendered as JSON text. Pure.
import type { ViewSet } from './view-set.ts';

export const langfuseViews: ViewSet = {
  required: ['observations', 'projects'],
  optional: ['traces'],
  llmSpans(t, has) {
    const traces = has.has('traces');
    const columns = [
      'o.trace_id', 'o.id AS span_id', 'o.parent_observation_id AS parent_span_id', 'p.name AS project',
      'o.type AS span_kind', 'o.name', 'o.model',
      'o.prompt_tokens', 'o.completion_tokens', 'o.total_tokens',
      'CAST(coalesce(o.calculated_total_cost, o.total_cost) AS DOUBLE) AS cost_usd',
      '(unix_micros(o.end_time) - unix_micros(o.start_time)) / 1000.0 AS latency_ms',
      "CASE WHEN o.level = 'ERROR' THEN 'ERROR' ELSE 'OK' END AS status", 'o.status_message AS error_message',
      'o.input AS input_text', 'o.output AS output_text', 'o.metadata',
      `${traces ? 't.session_id' : 'CAST(NULL AS STRING)'} AS session_id`,
      `${traces ? 't.user_id' : 'CAST(NULL AS STRING)'} AS user_id`,
      'o.start_time', 'o.end_time', 'o.created_at',
    ];
    const from = [
      `${t('observations')} o`,
      `JOIN ${t('projects')} p ON o.project_id = p.id AND NOT p._deleted`,
      ...(traces ? [`LEFT JOIN ${t('traces')} t ON o.trace_id = t.id AND NOT t._deleted`] : []),
    ];
    return `SELECT ${columns.join(', ')} FROM ${from.join(' ')} WHERE NOT o._deleted`;
  },
};
