// A platform's curated views. Each platform defines only `llm_spans` over its own tables, with the columns
// of LLM_SPANS_COLUMNS; the lean variant and the daily aggregate are derived from it the same way for all.

/** The llm_spans contract, in order. */
export const LLM_SPANS_COLUMNS = [
  'trace_id', 'span_id', 'parent_span_id', 'project', 'span_kind', 'name', 'model',
  'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost_usd', 'latency_ms', 'status', 'error_message',
  'input_text', 'output_text', 'metadata', 'session_id', 'user_id', 'start_time', 'end_time', 'created_at',
] as const;
const LARGE_COLUMNS = new Set(['input_text', 'output_text', 'metadata']);

export interface ViewSet {
  /** tables without which no view is created */
  required: string[];
  /** tables joined when present (the views are recreated when one appears) */
  optional: string[];
  /** a column whose presence in a table tells this set from another over tables of the same names (Langfuse v3 and v2 both have observations) */
  marker?: { table: string; column: string };
  /** the SELECT of llm_spans, producing LLM_SPANS_COLUMNS; `t` qualifies a table name */
  llmSpans(t: (name: string) => string, present: Set<string>): string;
}

/** view name → SELECT, in creation order. */
export function curatedViews(set: ViewSet, t: (name: string) => string, present: Set<string>): Record<string, string> {
  const lean = LLM_SPANS_COLUMNS.filter((c) => !LARGE_COLUMNS.has(c));
  return {
    llm_spans: set.llmSpans(t, present),
    llm_spans_lean: `SELECT ${lean.join(', ')} FROM ${t('llm_spans')}`,
    llm_daily: `SELECT to_date(start_time) AS day, project, model, count(*) AS spans,
      sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens, sum(total_tokens) AS total_tokens,
      sum(cost_usd) AS cost_usd, avg(CASE WHEN status = 'ERROR' THEN 1.0 ELSE 0.0 END) AS error_rate,
      percentile_approx(latency_ms, 0.5) AS p50_latency_ms, percentile_approx(latency_ms, 0.95) AS p95_latency_ms
      FROM ${t('llm_spans_lean')} GROUP BY to_date(start_time), project, model`,
  };
}
