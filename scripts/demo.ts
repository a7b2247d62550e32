// make demo: trace traffic into a Phoenix-shaped Postgres schema, the connector and the sink running as
// their real CLIs, and the rows shown from Delta once they match Postgres.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { stack } from './stack/stack-env.ts';
import { connectWarehouse } from '../sink/src/warehouse/databricks-client.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOME = process.env.TL_HOME ?? `${ROOT}.cache`;
const NAME = 'tracelake_demo';
const env = stack();
const say = (s: string) => process.stdout.write(`${s}\n`);

async function resetPostgres(db: pg.Client): Promise<void> {
  await db.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, [NAME]);
  await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [NAME]).catch(() => undefined);
  await db.query(`DROP PUBLICATION IF EXISTS ${NAME}`);
  await db.query(`DROP SCHEMA IF EXISTS ${NAME} CASCADE`);
  await db.query(`CREATE SCHEMA ${NAME}`);
  // the shape of Phoenix's projects / traces / spans (see ../shared/notes/trace-platforms.md)
  await db.query(`
    CREATE TABLE ${NAME}.projects (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE ${NAME}.traces (id bigserial PRIMARY KEY, project_rowid bigint NOT NULL REFERENCES ${NAME}.projects(id),
      trace_id text NOT NULL UNIQUE, start_time timestamptz NOT NULL, end_time timestamptz NOT NULL);
    CREATE TABLE ${NAME}.spans (id bigserial PRIMARY KEY, trace_rowid bigint NOT NULL REFERENCES ${NAME}.traces(id),
      span_id text NOT NULL UNIQUE, parent_id text, name text NOT NULL, span_kind text NOT NULL,
      start_time timestamptz NOT NULL, end_time timestamptz NOT NULL, attributes jsonb NOT NULL, events jsonb NOT NULL DEFAULT '[]',
      status_code text NOT NULL DEFAULT 'UNSET', status_message text NOT NULL DEFAULT '',
      cumulative_error_count int NOT NULL DEFAULT 0, cumulative_llm_token_count_prompt int NOT NULL DEFAULT 0,
      cumulative_llm_token_count_completion int NOT NULL DEFAULT 0, llm_token_count_prompt int, llm_token_count_completion int);`);
}

async function resetKafkaAndDelta(): Promise<void> {
  const kafka = new Kafka({ clientId: 'tracelake-demo', brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${NAME}.`) || t === `${NAME}-state`);
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.deleteGroups([`${NAME}-sink`]).catch(() => undefined);
  await admin.disconnect();
  const wh = await warehouse();
  await wh.query(`DROP SCHEMA IF EXISTS ${NAME} CASCADE`);
  await wh.close();
}

const warehouse = () => connectWarehouse({ ...env.warehouse, caCert: env.warehouse.caCert });

let traceNo = 0;
const models = ['gpt-4o-mini', 'claude-3-5-sonnet', 'llama-3.1-70b'];
/** One trace: a chain span with an LLM call and a tool call under it; some fail, some have large inputs. */
async function writeTrace(db: pg.Client, project: number): Promise<void> {
  const n = ++traceNo;
  const t0 = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const model = models[n % models.length]!;
  const prompt = n % 5 === 0 ? 'long context '.repeat(400) : `What is the weather in city #${n}? It's "sunny"?`;
  const failed = n % 7 === 0;
  await db.query('BEGIN');
  const { rows: [trace] } = await db.query<{ id: string }>(
    `INSERT INTO ${NAME}.traces (project_rowid, trace_id, start_time, end_time) VALUES ($1, $2, $3, $3) RETURNING id`,
    [project, `trace-${n}`, iso(t0)]);
  const span = (id: string, parent: string | null, name: string, kind: string, attrs: object, start: number, end: number, status = 'OK', prompt_t: number | null = null, compl_t: number | null = null) =>
    db.query(`INSERT INTO ${NAME}.spans (trace_rowid, span_id, parent_id, name, span_kind, start_time, end_time, attributes, status_code,
                status_message, llm_token_count_prompt, llm_token_count_completion)
              VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
      [trace!.id, id, parent, name, kind, iso(start), iso(end), JSON.stringify(attrs), status, status === 'ERROR' ? 'tool timed out' : '', prompt_t, compl_t]);
  await span(`s-${n}-root`, null, 'agent', 'CHAIN', { input: { value: prompt } }, t0, t0 + 900);
  await span(`s-${n}-llm`, `s-${n}-root`, 'ChatCompletion', 'LLM',
    { llm: { model_name: model, token_count: { prompt: 40 + n, completion: 12 } }, input: { value: prompt }, output: { value: `Answer ${n} 😀` } },
    t0 + 10, t0 + 600, 'OK', 40 + n, 12);
  await span(`s-${n}-tool`, `s-${n}-root`, 'get_weather', 'TOOL', { tool: { name: 'get_weather' } }, t0 + 610, t0 + 880, failed ? 'ERROR' : 'OK');
  await db.query('COMMIT');
  // Phoenix widens the trace and bumps ancestors' cumulative counters after the fact: updates that leave
  // the large attributes column untouched (unchanged TOAST)
  await db.query(`UPDATE ${NAME}.traces SET end_time = $2 WHERE id = $1`, [trace!.id, iso(t0 + 900)]);
  await db.query(`UPDATE ${NAME}.spans SET cumulative_llm_token_count_prompt = $2, cumulative_llm_token_count_completion = 12,
                  cumulative_error_count = $3 WHERE span_id = $1`, [`s-${n}-root`, 40 + n, failed ? 1 : 0]);
}

function startService(kind: 'connector' | 'sink', config: object): ChildProcess {
  const file = `${HOME}/demo/${kind}.json`;
  writeFileSync(file, JSON.stringify(config, null, 2));
  const log = openSync(`${HOME}/logs/demo-${kind}.log`, 'w');
  return spawn(process.execPath, [`${ROOT}${kind}/src/main.ts`, '--config', file], { stdio: ['ignore', log, log] });
}

async function main(): Promise<void> {
  mkdirSync(`${HOME}/demo`, { recursive: true });
  const db = new pg.Client({ connectionString: env.pgUrl });
  await db.connect();
  say('· resetting the demo schema in Postgres, its topics and its Delta schema');
  await resetPostgres(db);
  await resetKafkaAndDelta();
  const { rows: [project] } = await db.query<{ id: number }>(`INSERT INTO ${NAME}.projects (name) VALUES ('default') RETURNING id`);
  for (let i = 0; i < 10; i++) await writeTrace(db, project!.id);
  say(`· ${traceNo} traces written before start (they arrive through the snapshot)`);

  const connector = startService('connector', {
    source: { url: env.pgUrl, tables: ['projects', 'traces', 'spans'].map((t) => `${NAME}.${t}`), publication: { name: NAME }, slot: { name: NAME } },
    kafka: { brokers: env.kafkaBrokers, topicPrefix: NAME, partitions: 2, stateTopic: `${NAME}-state` },
    registry: { url: env.registryUrl },
  });
  const sink = startService('sink', {
    kafka: { brokers: env.kafkaBrokers, groupId: `${NAME}-sink`, topicPrefix: NAME, topicRefreshMs: 1000 },
    registry: { url: env.registryUrl },
    warehouse: { host: env.warehouse.host, port: env.warehouse.port, path: env.warehouse.path, token: env.warehouse.token, caCertFile: env.warehouse.caFile, schema: NAME },
    tables: { [`${NAME}.spans`]: { deleteMode: 'soft' } },
  });
  const children = [connector, sink];
  const exits = children.map((c, i) => new Promise<void>((resolve) => c.on('exit', (code) => {
    if (code !== 0 && code !== null) say(`! ${i === 0 ? 'connector' : 'sink'} exited with code ${code}: see ${HOME}/logs/demo-${i === 0 ? 'connector' : 'sink'}.log`);
    resolve();
  })));
  try {
    say('· connector and sink started; sending live trace traffic for 10 s');
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      await writeTrace(db, project!.id);
      await new Promise((r) => setTimeout(r, 100));
    }
    await db.query(`DELETE FROM ${NAME}.spans WHERE span_id = 's-1-tool'`); // retention deletes, soft in Delta
    const lastWrite = Date.now();
    say(`· ${traceNo} traces written in all; waiting for Delta to match Postgres`);

    const wh = await warehouse();
    const tables = ['projects', 'traces', 'spans'];
    let counts: Array<[string, number, number]> = [];
    for (let i = 0; i < 120; i++) {
      counts = [];
      for (const t of tables) {
        const { rows: [p] } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${NAME}.${t}`);
        const d = await wh.query<{ n: number }>(`SELECT count(*) AS n FROM ${NAME}.${t} WHERE NOT coalesce(_deleted, false)`).catch(() => [{ n: -1 }]);
        counts.push([t, Number(p!.n), Number(d[0]?.n ?? -1)]);
      }
      const { rows: [tok] } = await db.query<{ n: string }>(`SELECT sum(cumulative_llm_token_count_prompt)::text AS n FROM ${NAME}.spans`);
      const dtok = await wh.query<{ n: number }>(`SELECT sum(cumulative_llm_token_count_prompt) AS n FROM ${NAME}.spans WHERE NOT _deleted`).catch(() => [{ n: -1 }]);
      if (counts.every(([, a, b]) => a === b) && Number(tok!.n) === Number(dtok[0]?.n)) break;
      if (children.some((c) => c.exitCode !== null)) throw new Error('a service exited early');
      await new Promise((r) => setTimeout(r, 1000));
    }
    say(`· caught up ${((Date.now() - lastWrite) / 1000).toFixed(1)} s after the last write\n`);
    say('table       postgres   delta');
    for (const [t, a, b] of counts) say(`${t.padEnd(10)} ${String(a).padStart(9)} ${String(b).padStart(7)}${a === b ? '' : '   MISMATCH'}`);
    const sample = await wh.query<Record<string, unknown>>(
      `SELECT s.span_id, s.span_kind, s.name, get_json_object(s.attributes, '$.llm.model_name') AS model,
              s.llm_token_count_prompt AS prompt_tokens, s.status_code,
              CAST((unix_micros(s.end_time) - unix_micros(s.start_time)) / 1000 AS INT) AS latency_ms, s._synced_at
         FROM ${NAME}.spans s WHERE NOT s._deleted ORDER BY s.id DESC LIMIT 8`);
    say('\nlatest spans in Delta:');
    console.table(sample);
    await wh.close();
    if (counts.some(([, a, b]) => a !== b)) throw new Error('Delta does not match Postgres');
    say(`\ndone. Logs: ${HOME}/logs/demo-connector.log, ${HOME}/logs/demo-sink.log`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(exits);
    await db.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exit(1);
});
