// Rows as Langfuse v3/v4 write them to ClickHouse (whole rows; event_ts is the version), for the platform tests.
export { HOSTILE_TEXTS } from './hostile-texts.ts';

const BASE = Date.UTC(2026, 11, 1, 12, 0, 0);

/** A DateTime64(6) text `seconds` after a fixed base time (UTC). */
export function ts(seconds: number): string {
  return new Date(BASE + seconds * 1000).toISOString().replace('T', ' ').replace('Z', '000');
}

export interface SpanSpec {
  trace: string;
  id: string;
  parent?: string;
  kind?: string;
  /** start time, seconds after the base */
  at: number;
  /** event_ts, seconds after the start (the version; later wins) */
  version?: number;
  name?: string;
  input?: string;
  output?: string;
  level?: string;
  statusMessage?: string;
  usage?: Record<string, number>;
  metadata?: Record<string, string>;
  deleted?: boolean;
}

/** A v4 events_full row: trace attributes on every span. */
export function span(s: SpanSpec): Record<string, unknown> {
  const usage = s.usage ?? { input: 100, output: 20 };
  return {
    project_id: 'p1', trace_id: s.trace, span_id: s.id, parent_span_id: s.parent ?? '',
    start_time: ts(s.at), end_time: ts(s.at + 1.5), name: s.name ?? `${s.kind ?? 'GENERATION'} ${s.id}`, type: s.kind ?? 'GENERATION',
    trace_name: `trace ${s.trace}`, user_id: `user-${s.trace}`, session_id: `session-${s.trace}`, tags: ['prod', 'a b'],
    level: s.level ?? 'DEFAULT', status_message: s.statusMessage ?? '',
    provided_model_name: 'gpt-4o', model_parameters: '{"temperature":0.2}',
    usage_details: { ...usage, total: Object.values(usage).reduce((a, b) => a + b, 0) },
    cost_details: { input: 0.01, output: 0.0023, total: 0.0123 },
    input: s.input ?? `question of ${s.id}`, output: s.output ?? `answer of ${s.id}`,
    metadata_names: Object.keys(s.metadata ?? { env: 'test' }), metadata_values: Object.values(s.metadata ?? { env: 'test' }),
    source: 'otel', created_at: ts(s.at), updated_at: ts(s.at + (s.version ?? 2)),
    event_ts: ts(s.at + (s.version ?? 2)), is_deleted: s.deleted ? 1 : 0,
  };
}

/** A DateTime64(3) text (v3 tables keep milliseconds). */
export const ms = (seconds: number) => ts(seconds).slice(0, -3);

/** A v3 traces row. */
export function trace3(id: string, at: number, opts: { version?: number; name?: string; user?: string; session?: string } = {}): Record<string, unknown> {
  return {
    id, project_id: 'p1', timestamp: ms(at), name: opts.name ?? `trace ${id}`, user_id: opts.user ?? `user-${id}`, session_id: opts.session ?? `session-${id}`,
    metadata: { env: 'test' }, tags: ['prod'], public: false, bookmarked: false, input: `{"q":"${id}"}`, output: null,
    created_at: ms(at), updated_at: ms(at + (opts.version ?? 1)), event_ts: ms(at + (opts.version ?? 1)), is_deleted: 0,
  };
}

/** A v3 observations row (its trace's attributes live in traces). */
export function observation3(s: SpanSpec): Record<string, unknown> {
  const usage = s.usage ?? { input: 100, output: 20 };
  return {
    id: s.id, trace_id: s.trace, project_id: 'p1', type: s.kind ?? 'GENERATION', parent_observation_id: s.parent ?? null,
    start_time: ms(s.at), end_time: ms(s.at + 1.5), name: s.name ?? `${s.kind ?? 'GENERATION'} ${s.id}`, metadata: s.metadata ?? { env: 'test' },
    level: s.level ?? 'DEFAULT', status_message: s.statusMessage ?? null, input: s.input ?? `question of ${s.id}`, output: s.output ?? `answer of ${s.id}`,
    provided_model_name: 'gpt-4o', internal_model_id: 'm-gpt-4o', model_parameters: '{"temperature":0.2}',
    usage_details: { ...usage, total: Object.values(usage).reduce((a, b) => a + b, 0) }, cost_details: { input: 0.01, output: 0.0023, total: 0.0123 },
    total_cost: 0.0123, created_at: ms(s.at), updated_at: ms(s.at + (s.version ?? 2)), event_ts: ms(s.at + (s.version ?? 2)), is_deleted: s.deleted ? 1 : 0,
  };
}

/** A v3/v4 scores row. */
export function score(id: string, traceId: string, observationId: string | null, at: number, value: number): Record<string, unknown> {
  return {
    id, project_id: 'p1', trace_id: traceId, observation_id: observationId, name: 'helpfulness', value, source: 'API', data_type: 'NUMERIC',
    timestamp: ms(at), event_ts: ms(at), is_deleted: 0,
  };
}
