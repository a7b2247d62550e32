// Curated views over mirrored Langfuse v2 tables (observations ⋈ traces ⋈ projects), with the same columns
// as the Phoenix ones. Langfuse keeps costs as numeric(65,30), carried as exact decimal strings: the views
// cast them to DOUBLE. input/output/metadata are jsonb, rendered as JSON text. Pure.
import { llmDaily, type ViewSet } from './view-set.ts';

export const langfuseViews: ViewSet = {
  required: ['observations', 'projects'],
  optional: ['traces'],
  views(t, has) {
    const traces = has.has('traces');
    const columns = (lean: boolean) => [
      'o.trace_id', 'o.id AS span_id', 'o.parent_observation_id AS parent_span_id', 'p.name AS project',
      'o.type AS span_kind', 'o.name', 'o.model',
      'o.prompt_tokens', 'o.completion_tokens', 'o.total_tokens',
      'CAST(coalesce(o.calculated_total_cost, o.total_cost) AS DOUBLE) AS cost_usd',
      '(unix_micros(o.end_time) - unix_micros(o.start_time)) / 1000.0 AS latency_ms',
      'o.level AS status', 'o.status_message AS error_message',
      ...(lean ? [] : ['o.input AS input_text', 'o.output AS output_text', 'o.metadata']),
      `${traces ? 't.session_id' : 'CAST(NULL AS STRING)'} AS session_id`,
      `${traces ? 't.user_id' : 'CAST(NULL AS STRING)'} AS user_id`,
      'o.start_time', 'o.end_time', 'o.created_at',
    ];
    const from = [
      `${t('observations')} o`,
      `JOIN ${t('projects')} p ON o.project_id = p.id AND NOT p._deleted`,
      ...(traces ? [`LEFT JOIN ${t('traces')} t ON o.trace_id = t.id AND NOT t._deleted`] : []),
    ];
    const body = (lean: boolean) => `SELECT ${columns(lean).join(', ')} FROM ${from.join(' ')} WHERE NOT o._deleted`;
    return {
      llm_spans: body(false),
      llm_spans_lean: body(true),
      llm_daily: llmDaily(t('llm_spans_lean')),
    };
  },
};
