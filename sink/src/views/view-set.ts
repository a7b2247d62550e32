// A platform's curated views, built from whichever of its tables are mirrored.

export interface ViewSet {
  /** tables without which no view is created */
  required: string[];
  /** tables joined when present (the views are recreated when one appears) */
  optional: string[];
  /** view name → SELECT, in creation order; `t` qualifies a table or view name */
  views(t: (name: string) => string, present: Set<string>): Record<string, string>;
}

/** The daily aggregate every platform gets, over its llm_spans_lean view. */
export function llmDaily(leanView: string): string {
  return `SELECT to_date(start_time) AS day, project, model, count(*) AS spans,
    sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens, sum(total_tokens) AS total_tokens,
    sum(cost_usd) AS cost_usd, avg(CASE WHEN status = 'ERROR' THEN 1.0 ELSE 0.0 END) AS error_rate,
    percentile_approx(latency_ms, 0.5) AS p50_latency_ms, percentile_approx(latency_ms, 0.95) AS p95_latency_ms
    FROM ${leanView} GROUP BY to_date(start_time), project, model`;
}
