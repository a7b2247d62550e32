// Debezium's PostgreSQL connector on the Kafka Connect worker that scripts/bench/debezium.sh runs: worker
// (re)start, connector creation through the REST API, the worker's log, and the connector configuration used.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import pg from 'pg';
import type { Admin } from '@platformatic/kafka';
import { cpuWindow, type CpuShare } from './cpu.ts';
import { ROOT, cleanUp, env, kafkaAdmin, rssMb, sleep, treePeakRssMb, waitForTopicCount } from './harness.ts';

const SCRIPT = `${ROOT}scripts/bench/debezium.sh`;
const HOME = process.env.TL_HOME ?? `${ROOT}.cache`;
const LOG = `${HOME}/logs/debezium.log`;
const REST = `http://127.0.0.1:${process.env.TL_DBZ_CONNECT_PORT ?? 18083}`;

/** The versions the script installs (its defaults, or the environment's overrides) and the worker's heap flags. */
export function versions(): { debezium: string; converter: string; heap: string; kafka: string } {
  const text = readFileSync(SCRIPT, 'utf8');
  const pick = (name: string): string => process.env[name] ?? new RegExp(`${name}:-([^}]+)}`).exec(text)![1]!;
  const kafka = /^TL_KAFKA_VERSION=(\S+)/m.exec(readFileSync(`${ROOT}scripts/lib.sh`, 'utf8'))![1]!;
  return { debezium: pick('TL_DEBEZIUM_VERSION'), converter: pick('TL_APICURIO_CONVERTER_VERSION'), heap: pick('TL_DBZ_HEAP_OPTS'), kafka };
}

/** A fresh worker JVM (so its peak RSS belongs to one measurement); returns its pid. */
export function restartWorker(): number {
  execFileSync(SCRIPT, ['down'], { stdio: 'inherit' });
  execFileSync(SCRIPT, ['up'], { stdio: 'inherit' });
  return Number(readFileSync(`${HOME}/run/debezium.pid`, 'utf8').trim());
}

export function stopWorker(): void {
  execFileSync(SCRIPT, ['down'], { stdio: 'inherit' });
}

// node:http without keep-alive: the worker is restarted between measurements, and a pooled connection to the
// previous JVM would fail the next request.
function rest(method: string, path: string, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(`${REST}${path}`, { method, agent: false, timeout: 120_000, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => {
        const ok = (res.statusCode ?? 500) < 300 || (method === 'DELETE' && res.statusCode === 404);
        if (!ok) reject(new Error(`Kafka Connect ${method} ${path}: ${res.statusCode} ${text}`));
        else resolve(text ? JSON.parse(text) : undefined);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`Kafka Connect ${method} ${path}: no answer within 120 s`))).on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

export async function createConnector(name: string, config: Record<string, string>): Promise<void> {
  await rest('POST', '/connectors', { name, config });
}

export async function deleteConnectors(prefix: string): Promise<void> {
  for (const name of (await rest('GET', '/connectors')) as string[]) if (name.startsWith(prefix)) await rest('DELETE', `/connectors/${name}`);
}

/** Fails when the connector's task has failed (its trace is in the worker log). */
export async function assertRunning(name: string): Promise<void> {
  const status = (await rest('GET', `/connectors/${name}/status`)) as { tasks: { state: string; trace?: string }[] };
  const failed = status.tasks.find((t) => t.state === 'FAILED');
  if (failed) throw new Error(`Debezium task failed: ${failed.trace?.split('\n')[0]} (read ${LOG})`);
}

/** Where the worker log ends now: pass it to `logged` to look only at what comes after. */
export function logMark(): number {
  return statSync(LOG).size;
}

/**
 * Resolves with performance.now() once a line matching `pattern` appears in the worker log after `mark`
 * (polled every 10 ms, so the time is at most ~10 ms late).
 */
export async function logged(pattern: RegExp, mark: number, timeoutMs = 120_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const text = readFileSync(LOG).subarray(mark).toString();
    if (pattern.test(text)) return performance.now();
    await sleep(10);
  }
  throw new Error(`no ${pattern} in ${LOG} within ${timeoutMs / 1000} s`);
}

/**
 * Debezium's settings for one table: pgoutput, its own slot and publication (created by the benchmark),
 * Avro through the stack's registry in the Confluent wire format. Everything else is left at Debezium's and
 * Kafka Connect's defaults (max.batch.size 2048, max.queue.size 8192, producer acks=all with one request in flight).
 */
export function debeziumConfig(o: {
  table: string; slot: string; publication: string; topicPrefix: string; snapshot: 'no_data' | 'initial';
  /** avro (default): Apicurio's converter and the registry; json: Kafka's JsonConverter without embedded schemas, no registry */
  format?: 'avro' | 'json';
}): Record<string, string> {
  const pgUrl = new URL(env.pgUrl);
  const registryV2 = env.registryUrl.replace(/\/apis\/ccompat\/v7\/?$/, '/apis/registry/v2');
  const avro = (side: 'key' | 'value'): Record<string, string> => ({
    [`${side}.converter`]: 'io.apicurio.registry.utils.converter.AvroConverter',
    [`${side}.converter.apicurio.registry.url`]: registryV2,
    [`${side}.converter.apicurio.registry.auto-register`]: 'true',
    [`${side}.converter.apicurio.registry.find-latest`]: 'true',
    // Confluent wire format: magic byte 0 + 4-byte content id (= the ccompat API's schema id), no id headers
    [`${side}.converter.apicurio.registry.as-confluent`]: 'true',
    [`${side}.converter.apicurio.registry.use-id`]: 'contentId',
    [`${side}.converter.apicurio.registry.headers.enabled`]: 'false',
  });
  const json = (side: 'key' | 'value'): Record<string, string> => ({
    [`${side}.converter`]: 'org.apache.kafka.connect.json.JsonConverter',
    [`${side}.converter.schemas.enable`]: 'false',
  });
  return {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max': '1',
    'plugin.name': 'pgoutput',
    'database.hostname': pgUrl.hostname,
    'database.port': pgUrl.port || '5432',
    'database.user': decodeURIComponent(pgUrl.username),
    'database.password': decodeURIComponent(pgUrl.password),
    'database.dbname': pgUrl.pathname.slice(1) || 'postgres',
    'slot.name': o.slot,
    'publication.name': o.publication,
    'publication.autocreate.mode': 'disabled',
    'snapshot.mode': o.snapshot,
    'table.include.list': o.table,
    'topic.prefix': o.topicPrefix,
    'topic.creation.default.partitions': '3',
    'topic.creation.default.replication.factor': '1',
    ...(o.format === 'json' ? json('key') : avro('key')),
    ...(o.format === 'json' ? json('value') : avro('value')),
  };
}

/**
 * Runs `body` with a Postgres client and a Kafka admin, after a first worker start (which installs Debezium on
 * first use) and the removal of what an interrupted run left under `prefix`; afterwards deletes the connectors,
 * stops the worker and drops everything named `run`*.
 */
export async function benchSession<T>(prefix: string, run: string, body: (db: pg.Client, admin: Admin) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: env.pgUrl });
  await db.connect();
  const admin = kafkaAdmin();
  try {
    restartWorker();
    await deleteConnectors(prefix);
    await cleanUp(db, admin, prefix);
    return await body(db, admin);
  } finally {
    await deleteConnectors(prefix).catch(() => undefined);
    stopWorker();
    await cleanUp(db, admin, run);
    await admin.close();
    await db.end();
  }
}

export interface DebeziumRun {
  /** performance.now() when timing started: the connector POST, or its start-of-streaming log line */
  startedAt: number;
  done: { at: number; halfAt: number };
  rssMb: number;
  /** the worker's resident set before the connector was created */
  idleMb: number;
  /** where the cores went from the POST until the rows were in the topic */
  cpu: CpuShare;
}

/**
 * One measurement on a fresh worker JVM: creates connector `name`, waits until `topic` holds `rows` messages,
 * reads the worker's peak RSS, deletes the connector.
 */
export async function runDebezium(admin: Admin, o: { name: string; config: Record<string, string>; topic: string; rows: number; from: 'post' | 'streaming' }): Promise<DebeziumRun> {
  const pid = restartWorker();
  const idleMb = rssMb(pid);
  const mark = logMark();
  const posted = performance.now();
  const cpu = cpuWindow();
  await createConnector(o.name, o.config);
  try {
    const startedAt = o.from === 'post' ? posted : await logged(/Processing messages/, mark);
    const alive = (): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
    const done = await waitForTopicCount(admin, o.topic, o.rows, { alive });
    await assertRunning(o.name);
    return { startedAt, done, rssMb: treePeakRssMb(pid), idleMb, cpu: cpu() };
  } finally {
    await deleteConnectors(o.name);
  }
}
