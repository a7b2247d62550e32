// What the demos share: the connector and the sink started as their real CLIs (logs under .cache/logs), the
// demo's Kafka topics, consumer group and Delta schema removed so that every run starts as the first did.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';
import { kafkaOptions } from '../../runtime/kafka.ts';
import { stack } from '../stack/stack-env.ts';
import { connectWarehouse, type Warehouse } from '../../sink/src/warehouse/databricks-client.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const HOME = process.env.TL_HOME ?? `${ROOT}.cache`;
export const say = (s: string) => process.stdout.write(`${s}\n`);
export const warehouse = (): Promise<Warehouse> => connectWarehouse({ ...stack().warehouse, auth: { token: stack().warehouse.token } });

/** Removes the demo's topics (prefix `name`), its state topic and sink group, and its Delta schema. */
export async function resetKafkaAndDelta(name: string): Promise<void> {
  const admin = new Admin(kafkaOptions({ brokers: stack().kafkaBrokers, ssl: false }, 'tracelake-demo')); // the services' client
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${name}.`) || t === `${name}-state`);
  if (topics.length > 0) await admin.deleteTopics({ topics });
  // deletion finishes in the background: a topic created again before it is gone is unusable for a while
  for (let i = 0; i < 60 && (await admin.listTopics()).some((t) => topics.includes(t)); i++) await new Promise((r) => setTimeout(r, 500));
  await admin.deleteGroups({ groups: [`${name}-sink`] }).catch(() => undefined);
  await admin.close();
  const wh = await warehouse();
  await wh.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  await wh.close();
}

/** The connector and the sink as child processes, started and stopped together. */
export class DemoServices {
  private readonly name: string;
  private readonly configs: Array<['connector' | 'sink', object]>;
  private readonly started = new Set<string>();
  private children: Array<[string, ChildProcess]> = [];
  private exits: Array<Promise<void>> = [];

  constructor(name: string, connector: object, sink: object) {
    this.name = name;
    this.configs = [['connector', connector], ['sink', sink]];
    mkdirSync(`${HOME}/demo`, { recursive: true });
  }

  logOf(kind: string): string {
    return `${HOME}/logs/${this.name}-${kind}.log`;
  }

  start(): void {
    this.children = [];
    for (const [kind, config] of this.configs) {
      const file = `${HOME}/demo/${this.name}-${kind}.json`;
      writeFileSync(file, JSON.stringify(config, null, 2));
      const log = openSync(this.logOf(kind), this.started.has(kind) ? 'a' : 'w'); // both starts in one log
      this.started.add(kind);
      const c = spawn(process.execPath, [`${ROOT}cli/tracelake.ts`, kind, '--config', file], { stdio: ['ignore', log, log] });
      this.children.push([kind, c]);
      this.exits.push(new Promise<void>((resolve) => c.on('exit', (code) => {
        if (code !== 0 && code !== null) say(`! ${kind} exited with code ${code}: see ${this.logOf(kind)}`);
        resolve();
      })));
    }
  }

  /** A service exited on its own. */
  get failed(): boolean {
    return this.children.some(([, c]) => c.exitCode !== null);
  }

  async stop(): Promise<void> {
    for (const [, c] of this.children) c.kill('SIGTERM');
    await Promise.all(this.exits);
    this.exits = [];
  }
}

/** The sink's configuration in a demo: the stack's Kafka, registry and warehouse, the Delta schema `name`. */
export function demoSinkConfig(name: string, platform: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const env = stack();
  return {
    kafka: { brokers: env.kafkaBrokers, groupId: `${name}-sink`, topicPrefix: name, topicRefreshMs: 1000 },
    registry: { url: env.registryUrl },
    warehouse: { host: env.warehouse.host, port: env.warehouse.port, path: env.warehouse.path, token: env.warehouse.token, caCertFile: env.warehouse.caFile, schema: name },
    platform, ...extra,
    http: { host: '127.0.0.1', port }, failurePolicy: 'exit',
  };
}

/** Prints the newest spans (llm_spans) and the daily aggregate (llm_daily) of the Delta schema, rows chosen by `where`. */
export async function showViews(wh: Warehouse, schema: string, where = 'TRUE'): Promise<void> {
  say('latest spans in Delta (llm_spans):');
  console.table(await wh.query(`SELECT span_kind, name, model, prompt_tokens, completion_tokens, round(cost_usd, 6) AS cost_usd,
      round(latency_ms) AS latency_ms, status, error_message, substr(input_text, 1, 40) AS input, user_id, session_id
    FROM ${schema}.llm_spans WHERE ${where} ORDER BY start_time DESC, span_id LIMIT 8`));
  say('per day, project and model (llm_daily):');
  console.table(await wh.query(`SELECT CAST(day AS STRING) AS day, project, model, spans, total_tokens, round(cost_usd, 6) AS cost_usd,
      round(error_rate, 2) AS error_rate, round(p50_latency_ms) AS p50_ms, round(p95_latency_ms) AS p95_ms
    FROM ${schema}.llm_daily WHERE ${where} ORDER BY model`));
}
