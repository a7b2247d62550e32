// llm_spans over the mirrored Phoenix tables: one row per span with the fields trace analytics needs
// (the lean and daily views are derived from it, see view-set.ts). Portable Spark SQL: runs on the local engine and on
// Databricks. Pure: table names in, SQL out. Optional tables (costs, sessions) join only when mirrored.
import type { ViewSet } from './view-set.ts';

const json = (path: string) => `get_json_object(s.attributes, '$.${path}')`;

export const phoenixViews: ViewSet = {
  required: ['spans', 'traces', 'projects'],
  optional: ['span_costs', 'project_sessions'],
  llmSpans(t, has) {
    const costs = has.has('span_costs');
    const sessions = has.has('project_sessions');
    const columns = [
      't.trace_id', 's.span_id', 's.parent_id AS parent_span_id', 'p.name AS project', 's.span_kind', 's.name',
      `${json('llm.model_name')} AS model`,
      's.llm_token_count_prompt AS prompt_tokens', 's.llm_token_count_completion AS completion_tokens',
      // try_cast: an attribute holds whatever the instrumentation wrote ("12.0", "n/a"); with ANSI mode on (Databricks
      // SQL warehouses, the local engine) a plain CAST of such text fails every query over the view, not just that
      // row. Text that is not an integer counts as absent: the total is then prompt + completion.
      `coalesce(try_cast(${json('llm.token_count.total')} AS BIGINT), s.llm_token_count_prompt + s.llm_token_count_completion) AS total_tokens`,
      `${costs ? 'c.total_cost' : 'CAST(NULL AS DOUBLE)'} AS cost_usd`,
      '(unix_micros(s.end_time) - unix_micros(s.start_time)) / 1000.0 AS latency_ms',
      "CASE WHEN s.status_code = 'ERROR' THEN 'ERROR' ELSE 'OK' END AS status", "nullif(s.status_message, '') AS error_message",
      `${json('input.value')} AS input_text`, `${json('output.value')} AS output_text`, `${json('metadata')} AS metadata`,
      `${sessions ? `coalesce(ps.session_id, ${json('session.id')})` : json('session.id')} AS session_id`,
      `${json('user.id')} AS user_id`,
      's.start_time', 's.end_time', 's.start_time AS created_at',
    ];
    const from = [
      `${t('spans')} s`,
      `JOIN ${t('traces')} t ON s.trace_rowid = t.id AND NOT t._deleted`,
      `JOIN ${t('projects')} p ON t.project_rowid = p.id AND NOT p._deleted`,
      ...(costs ? [`LEFT JOIN ${t('span_costs')} c ON c.span_rowid = s.id AND NOT c._deleted`] : []),
      ...(sessions ? [`LEFT JOIN ${t('project_sessions')} ps ON t.project_session_rowid = ps.id AND NOT ps._deleted`] : []),
    ];
    return `SELECT ${columns.join(', ')} FROM ${from.join(' ')} WHERE NOT s._deleted`;
  },
};
