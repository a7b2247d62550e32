// make demo: a real Arize Phoenix on the stack's Postgres receives a trickle of generated LLM traces over
// OTLP; the connector and the sink run as their real CLIs with the Phoenix presets; at the end llm_spans and
// llm_daily are read back from Delta.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { stack } from './stack/stack-env.ts';
import { DemoServices, HOME, ROOT, demoSinkConfig, resetKafkaAndDelta, say, showViews, warehouse } from './demo/services.ts';

const NAME = 'tracelake_demo';
const PROJECT = 'tracelake-demo';
const env = stack();
const phoenixUrl = env.pgUrl.replace(/\/[^/]*$/, '/phoenix');

async function reset(db: pg.Client): Promise<void> {
  await db.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, [NAME]);
  await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [NAME]).catch(() => undefined);
  await db.query(`DROP PUBLICATION IF EXISTS ${NAME}`);
  await resetKafkaAndDelta(NAME);
}

let seed = Date.now() % 100_000;
function sendTraces(n: number): number {
  const out = execFileSync(`${HOME}/phoenix/venv-20.26.1/bin/python`,
    [`${ROOT}scripts/phoenix/send_spans.py`, `http://127.0.0.1:16006/v1/traces`, PROJECT, String(n), String(seed++)], { encoding: 'utf8' });
  return (JSON.parse(out) as unknown[]).length;
}

const CONNECTOR_PORT = 18083;
const SINK_PORT = 18084;

async function main(): Promise<void> {
  say('· starting Arize Phoenix on the stack\'s Postgres (first run installs it from PyPI, ~2 min)');
  execFileSync(`${ROOT}scripts/stack/phoenix.sh`, ['up'], { stdio: 'inherit' });
  const db = new pg.Client({ connectionString: phoenixUrl });
  await db.connect();
  say('· resetting the demo project in Phoenix, the demo slot, topics and Delta schema');
  // each run starts as the first did: the project's earlier traces go (Phoenix's REST API deletes them)
  const gone = await fetch(`http://127.0.0.1:16006/v1/projects/${PROJECT}`, { method: 'DELETE' });
  if (!gone.ok && gone.status !== 404) throw new Error(`Phoenix did not delete the demo project: HTTP ${gone.status}`);
  await reset(db);
  const spansInPhoenix = async () => Number((await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM spans s JOIN traces t ON t.id = s.trace_rowid JOIN projects p ON p.id = t.project_rowid WHERE p.name = $1`, [PROJECT])).rows[0]!.n);
  const before = await spansInPhoenix(); // Phoenix's database is kept between runs
  let spans = sendTraces(5);
  say(`· ${spans} spans sent to Phoenix before the pipeline starts (they arrive through the snapshot)`);

  const connectorConfig = {
    source: { url: phoenixUrl, platform: 'phoenix', publication: { name: NAME }, slot: { name: NAME } },
    kafka: { brokers: env.kafkaBrokers, topicPrefix: NAME, partitions: 2, stateTopic: `${NAME}-state` },
    registry: { url: env.registryUrl },
    http: { host: '127.0.0.1', port: CONNECTOR_PORT }, failurePolicy: 'exit',
  };
  const sinkConfig = demoSinkConfig(NAME, 'phoenix', SINK_PORT, { tables: { 'public.spans': { clusterBy: ['start_time'] } } });
  const services = new DemoServices('demo', connectorConfig, sinkConfig);
  const wh = await warehouse();
  /** Sends a trickle of traces, then waits until llm_spans holds every span of the project; returns the seconds after the last span. */
  const trickleAndCatchUp = async (rounds: number): Promise<number> => {
    let lastWrite = 0;
    for (let round = 0; round < rounds; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, 1000));
      spans += sendTraces(3);
      lastWrite = Date.now(); // the moment the last span was handed to Phoenix
    }
    if (process.env.DEMO_TRACE) say(`  (last span sent at ${new Date(lastWrite).toISOString()})`);
    const expected = { n: before + spans };
    // Phoenix acknowledges spans before it writes them: wait until Postgres has them all (the clock keeps running)
    for (let i = 0; i < 300 && (await spansInPhoenix()) < expected.n; i++) await new Promise((r) => setTimeout(r, 100));
    say(`· ${spans} spans sent in this run, ${await spansInPhoenix()} in Phoenix for project ${PROJECT}; waiting for llm_spans in Delta`);
    // A count over llm_spans costs the engine as much as a small MERGE, so it is asked when the sink has committed
    // something new (its REST status, polled cheaply) or every 3 s; rows are visible from the moment a query that
    // sees them starts (Delta reads the snapshot of that moment), which is the time taken.
    let seen = -1;
    let visibleAt = 0;
    let lastMerge = '';
    let askedAt = 0;
    for (const deadline = Date.now() + 300_000; seen !== Number(expected.n) && Date.now() < deadline;) {
      if (services.failed) throw new Error('a service exited early');
      const status = await fetch(`http://127.0.0.1:${SINK_PORT}/status`).then((r) => r.json() as Promise<{ tables: Array<{ lastMergeAt?: string }> }>).catch(() => ({ tables: [] }));
      const merged = status.tables.map((t) => t.lastMergeAt ?? '').sort().at(-1) ?? '';
      if (merged === lastMerge && Date.now() - askedAt < 3000) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      lastMerge = merged;
      askedAt = Date.now();
      const r = await wh.query<{ n: number }>(`SELECT count(*) AS n FROM ${NAME}.llm_spans WHERE project = '${PROJECT}'`).catch(() => [{ n: -1 }]);
      seen = Number(r[0]?.n ?? -1);
      visibleAt = askedAt;
    }
    if (seen !== Number(expected.n)) throw new Error(`llm_spans has ${seen} spans of ${PROJECT}, Phoenix ${expected.n}`);
    return (visibleAt - lastWrite) / 1000;
  };
  try {
    services.start();
    say('· cold start: connector and sink started on an empty Delta schema; a trickle of LLM traces (chain → LLM + tool, failures, long prompts) for ~10 s');
    const cold = await trickleAndCatchUp(5);
    say(`· cold start: llm_spans caught up ${cold.toFixed(1)} s after the last span was sent (goal ≤ 10 s)`);
    say('· warm start: both services stopped and started again (tables, topics, offsets and slot kept); another trickle for ~5 s');
    await services.stop();
    services.start();
    const warm = await trickleAndCatchUp(3);
    say(`· warm start: llm_spans caught up ${warm.toFixed(1)} s after the last span was sent (goal ≤ 5 s)\n`);
    await showViews(wh, NAME, `project = '${PROJECT}'`);
    for (const [kind, port] of [['connector', CONNECTOR_PORT], ['sink', SINK_PORT]] as const) {
      const status = await (await fetch(`http://127.0.0.1:${port}/status`)).json() as { connector: { state: string }; phase?: string; tables: unknown[] };
      say(`${kind}: ${status.connector.state} (${status.phase}), ${status.tables.length} table(s) — REST http://127.0.0.1:${port}/status, metrics /metrics`);
    }
    say(`done. Logs: ${HOME}/logs/demo-connector.log, ${HOME}/logs/demo-sink.log, ${HOME}/logs/phoenix.log`);
  } finally {
    await services.stop();
    await wh.close();
    await db.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exit(1);
});
