// An export-files deployment for a test: a bucket the platform exports to, and the connector and sink
// configurations that capture it (objectStorage section, no Postgres) into one Delta schema; plus rows as
// Langfuse's and LangSmith's exports write them.
import { pipelineEnv, type PipelineEnv } from './pipeline.ts';
import { exportBucket, type ExportBucket } from './object-store.ts';
import { startConnector } from './connector.ts';
import { sinkConfig, startSink } from './sink.ts';
import type { ConnectorConfigInput } from '../../connector/src/config.ts';
import type { Connector } from '../../connector/src/connector.ts';

export interface ExportPipeline extends PipelineEnv {
  bucket: ExportBucket;
  connectorConfig: ConnectorConfigInput;
  /** starts the connector in-process, stopped by the cleanup */
  startConnector(): Promise<Connector>;
  startSink(): Promise<void>;
  /** the started connector's tables as REST /status shows them */
  connectorStatus(): Array<{ table: string; rejectedFiles?: Array<{ file: string; code: string }> }>;
}

export async function exportPipeline(t: { after(fn: () => Promise<void>): void }, prefix: string, platform: 'langfuse-export' | 'langsmith-export', keyPrefix: string): Promise<ExportPipeline> {
  const env = await pipelineEnv(t, prefix);
  const bucket = await exportBucket(prefix);
  t.after(() => bucket.cleanup());
  const base = env.fx.config();
  const connectorConfig: ConnectorConfigInput = { ...base, source: {}, objectStorage: bucket.source(platform, { prefix: keyPrefix }) };
  let started: Connector | undefined;
  return {
    ...env, bucket, connectorConfig,
    connectorStatus: () => (started?.tables() ?? []) as ReturnType<ExportPipeline['connectorStatus']>,
    async startConnector() {
      const c = await startConnector(connectorConfig);
      started = c.connector;
      env.stops.push(async () => { await c.connector.stop(); await c.done; });
      return c.connector;
    },
    async startSink() {
      const s = await startSink({ ...sinkConfig(env.fx.name), platform });
      env.stops.push(async () => { await s.sink.stop(); await s.done; });
    },
  };
}

/** A ClickHouse DateTime64 text `seconds` after 2026-08-22 07:00 UTC, with `digits` fractional digits, as Langfuse's JSON holds it. */
export function lfTime(seconds: number, digits: 3 | 6): string {
  const iso = new Date(Date.UTC(2026, 7, 22, 7) + Math.round(seconds * 1000)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${digits === 6 ? '000' : ''}`;
}

export interface ObservationSpec {
  id: string;
  trace: string;
  parent?: string;
  type?: string;
  at: number;
  updated?: number;
  input?: string;
  output?: string;
  level?: string;
  statusMessage?: string;
  usage?: Record<string, number>;
  cost?: number;
}

/** A row of Langfuse's enriched observations export (observations_v2), default field groups. */
export function observationV2(o: ObservationSpec): Record<string, unknown> {
  const t = (s: number) => lfTime(s, 6);
  const cost = o.cost ?? 0.0125;
  return {
    id: o.id, trace_id: o.trace, start_time: t(o.at), end_time: t(o.at + 1.5), project_id: 'p1', parent_observation_id: o.parent ?? '',
    type: o.type ?? 'GENERATION', name: `step ${o.id}`, level: o.level ?? 'DEFAULT', status_message: o.statusMessage ?? '', version: '',
    environment: 'default', bookmarked: false, public: false, user_id: `user-${o.trace}`, session_id: `session-${o.trace}`,
    is_root_observation: o.parent === undefined, completion_start_time: null, created_at: t(o.at), updated_at: t(o.updated ?? o.at),
    metadata: { team: 'search' }, provided_model_name: 'gpt-4o', model_id: 'model-1', model_parameters: '{"temperature":0}',
    usage_details: o.usage ?? { input: 100, output: 20, total: 120 }, cost_details: { total: cost }, total_cost: cost,
    usage_pricing_tier_id: null, usage_pricing_tier_name: null, prompt_id: '', prompt_name: '', prompt_version: null,
    latency: 1.5, time_to_first_token: null, tool_definitions: {}, tool_calls: [], tool_call_names: [], tags: ['prod'],
    release: '', trace_name: `trace ${o.trace}`, input: o.input ?? '{"question":"hi"}', output: o.output ?? '"hello"',
  };
}

/** A row of Langfuse's legacy observations export. */
export function observationLegacy(o: ObservationSpec): Record<string, unknown> {
  const t = (s: number) => lfTime(s, 3);
  const cost = o.cost ?? 0.0125;
  return {
    id: o.id, trace_id: o.trace, project_id: 'p1', environment: 'default', type: o.type ?? 'GENERATION', parent_observation_id: o.parent ?? null,
    start_time: t(o.at), end_time: t(o.at + 1.5), name: `step ${o.id}`, metadata: { team: 'search' }, level: o.level ?? 'DEFAULT',
    status_message: o.statusMessage ?? null, version: null, input: o.input ?? '{"question":"hi"}', output: o.output ?? '"hello"',
    provided_model_name: 'gpt-4o', model_parameters: '{"temperature":0}', usage_details: o.usage ?? { input: 100, output: 20, total: 120 },
    cost_details: { total: cost }, completion_start_time: null, prompt_name: null, prompt_version: null, total_cost: cost, latency: 1.5,
    time_to_first_token: null, model_id: 'model-1', created_at: t(o.at), updated_at: t(o.updated ?? o.at), prompt_id: null,
    tool_calls: [], tool_call_names: [], tool_definitions: {}, usage_pricing_tier_name: null,
  };
}

/** A row of Langfuse's traces export. */
export function traceRow(id: string, at: number, updated = at): Record<string, unknown> {
  const t = (s: number) => lfTime(s, 3);
  return {
    id, timestamp: t(at), name: `trace ${id}`, environment: 'default', project_id: 'p1', metadata: {}, user_id: `user-${id}`,
    session_id: `session-${id}`, release: null, version: null, public: false, bookmarked: false, tags: ['prod'],
    input: '{"q":"hi"}', output: '"hello"', created_at: t(at), updated_at: t(updated),
  };
}

/** A row of Langfuse's scores export. */
export function scoreRow(id: string, trace: string, observation: string | null, at: number, value: number): Record<string, unknown> {
  const t = (s: number) => lfTime(s, 3);
  return {
    id, timestamp: t(at), project_id: 'p1', environment: 'default', trace_id: trace, observation_id: observation, session_id: null,
    dataset_run_id: null, name: 'helpfulness', value, source: 'API', comment: null, data_type: 'NUMERIC', string_value: null,
    created_at: t(at), updated_at: t(at),
  };
}

/** Langfuse's manifest of one export run (written last). */
export function lfManifest(prefix: string, stem: string, exportSource: string, files: Array<{ key: string; table: string; fileType: string; compressed: boolean; rowCount: number | null }>): string {
  const max = `${stem.slice(0, 10)}T${stem.slice(11).replaceAll('-', ':')}.000Z`;
  return `${JSON.stringify({
    version: 1, projectId: 'p1', exportSource, window: { minTimestamp: '2026-08-22T06:00:00.000Z', maxTimestamp: max }, maxTimestamp: max,
    createdAt: new Date().toISOString(), tables: [...new Set(files.map((f) => f.table))],
    files: files.map((f) => ({ ...f, format: f.fileType === 'PARQUET' ? 'parquet' : `${f.fileType.toLowerCase()}-${f.compressed ? 'gzip' : 'raw'}`, sizeBytes: 1 })),
  }, null, 2)}\n`;
}

export interface RunSpec {
  id: string;
  trace: string;
  parent?: string;
  runType?: string;
  at: number;
  /** seconds it ran; null: still running (status pending) */
  took?: number | null;
  status?: string;
  error?: string;
  inputs?: string;
  outputs?: string | null;
  tokens?: [prompt: number, completion: number];
  cost?: string;
}

/** A run of LangSmith's bulk export (format v1): naive UTC timestamps, nested values as JSON text. */
export function langsmithRun(r: RunSpec): Record<string, unknown> {
  const time = (s: number) => new Date(Date.UTC(2026, 7, 19, 10) + Math.round(s * 1000)).toISOString().slice(0, 23);
  const took = r.took === undefined ? 2 : r.took;
  const pending = took === null;
  const compact = (s: number) => time(s).replace(/[-:.]/g, '');
  return {
    id: r.id, tenant_id: 't1', session_id: 's1', trace_id: r.trace, parent_run_id: r.parent ?? null,
    parent_run_ids: JSON.stringify(r.parent ? [r.trace] : []), reference_example_id: null, name: `run ${r.id}`, run_type: r.runType ?? 'llm',
    start_time: time(r.at), end_time: pending ? null : time(r.at + took), status: r.status ?? (pending ? 'pending' : 'success'),
    is_root: r.parent === undefined, dotted_order: `${compact(r.at)}000Z${r.trace}${r.parent ? `.${compact(r.at)}001Z${r.id}` : ''}`,
    trace_tier: 'longlived', inputs: r.inputs ?? '{"messages":[{"role":"user","content":"hi"}]}', outputs: r.outputs === undefined ? (pending ? null : '{"generations":[{"text":"hello"}]}') : r.outputs,
    error: r.error ?? null,
    extra: JSON.stringify({ metadata: { ls_model_name: 'claude-sonnet-4', ls_provider: 'anthropic', thread_id: `thread-${r.trace}`, user_id: `user-${r.trace}` }, runtime: { sdk: 'langsmith-py' } }),
    events: JSON.stringify([{ name: 'start', time: time(r.at) }]), tags: JSON.stringify(['prod', 'v2']), feedback_stats: '{}',
    prompt_tokens: r.tokens?.[0] ?? null, completion_tokens: r.tokens?.[1] ?? null, total_tokens: r.tokens ? r.tokens[0] + r.tokens[1] : null,
    prompt_cost: r.cost ?? null, completion_cost: r.cost ? '0' : null, total_cost: r.cost ?? null, first_token_time: null,
  };
}
