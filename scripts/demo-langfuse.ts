// make demo-langfuse: a Langfuse v4 deployment's data path on the stack — its Postgres side (projects) and its
// ClickHouse side (events_full and scores with Langfuse's own table definitions, test/fixtures/langfuse-clickhouse)
// — is written the way Langfuse v4's worker writes it (async inserts of whole rows; an observation's end re-inserts
// the row with a later event_ts). Langfuse itself (a Node service with Redis and S3) does not run here: the rows it
// would write are generated. The connector (Postgres + ClickHouse) and the sink run as their real CLIs; at the end
// llm_spans and llm_daily are read back from Delta.
import pg from 'pg';
import { createClient } from '@clickhouse/client';
import { stack } from './stack/stack-env.ts';
import { DemoServices, demoSinkConfig, resetKafkaAndDelta, say, showViews, warehouse } from './demo/services.ts';
import { clickhouseStack, langfuseSchema } from '../test/support/clickhouse.ts';

const NAME = 'tracelake_lf_demo';
const env = stack();

const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const MODELS = ['gpt-4o', 'claude-sonnet-4', 'llama-3.1-70b'];

/** One trace as Langfuse v4 writes it: a root span, a generation, a tool call; the generation's end comes later. */
function trace(i: number, now: number): { start: Array<Record<string, unknown>>; end: Array<Record<string, unknown>> } {
  const id = `demo-${now.toString(36)}-${i}`;
  const model = MODELS[i % MODELS.length]!;
  const failed = i % 7 === 3;
  const base = { project_id: 'demo-project', trace_id: id, trace_name: 'support-chat', user_id: `user-${i % 4}`, session_id: `session-${i % 3}`, tags: ['demo'], source: 'otel' };
  const row = (span: string, type: string, parent: string, extra: Record<string, unknown>) => ({
    ...base, span_id: span, type, parent_span_id: parent, name: `${type.toLowerCase()} ${span}`, start_time: iso(now), end_time: iso(now + 800 + i * 37),
    level: 'DEFAULT', status_message: '', created_at: iso(now), updated_at: iso(now), event_ts: iso(now), is_deleted: 0, ...extra,
  });
  const input = JSON.stringify([{ role: 'user', content: `How do I reset my password? (ticket ${i}) — "quotes", \\backslash, \${template}` }]);
  const gen = { provided_model_name: model, input, usage_details: { input: 120 + i, output: 40 + (i % 9), total: 160 + i + (i % 9) } };
  return {
    start: [row(`${id}-root`, 'SPAN', '', { input }), row(`${id}-gen`, 'GENERATION', `${id}-root`, { ...gen, output: '' }),
      row(`${id}-tool`, 'TOOL', `${id}-gen`, { input: '{"query":"password reset"}', output: '{"docs":3}' })],
    end: [row(`${id}-gen`, 'GENERATION', `${id}-root`, {
      ...gen, output: failed ? '' : 'Open Settings → Security → Reset password.', level: failed ? 'ERROR' : 'DEFAULT', status_message: failed ? 'rate limited' : '',
      cost_details: { input: 0.0006, output: 0.0004, total: 0.001 }, updated_at: iso(now + 900), event_ts: iso(now + 900),
    })],
  };
}

async function main(): Promise<void> {
  say('· starting ClickHouse on the stack (first run installs the engine from PyPI, ~1 min)');
  const ch = clickhouseStack(); // starts it when it is not running
  const admin = createClient({ url: ch.url, username: ch.user, password: ch.password });
  const db = new pg.Client({ connectionString: env.pgUrl });
  await db.connect();
  say('· resetting the demo: Langfuse\'s Postgres schema and ClickHouse database, topics, Delta schema');
  await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [NAME]);
  await db.query(`DROP PUBLICATION IF EXISTS ${NAME}`);
  await db.query(`DROP SCHEMA IF EXISTS ${NAME} CASCADE`);
  await db.query(`CREATE SCHEMA ${NAME}`);
  await db.query(`CREATE TABLE ${NAME}.projects (id text PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now())`);
  await db.query(`INSERT INTO ${NAME}.projects (id, name) VALUES ('demo-project', 'support-bot')`);
  await admin.command({ query: `DROP DATABASE IF EXISTS ${NAME}` });
  await admin.command({ query: `CREATE DATABASE ${NAME}` });
  const ddl = createClient({ url: ch.url, username: ch.user, password: ch.password, database: NAME });
  for (const statement of langfuseSchema('v4')) await ddl.command({ query: statement });
  await ddl.close();
  await resetKafkaAndDelta(NAME);
  // Langfuse's own insert settings: async inserts, acknowledged once written
  const writer = createClient({
    url: ch.url, username: ch.user, password: ch.password,
    clickhouse_settings: { async_insert: 1, wait_for_async_insert: 1, session_timezone: 'UTC' },
  });
  let traces = 0;
  const write = async (n: number) => {
    const now = Date.now();
    const batch = Array.from({ length: n }, (_, i) => trace(traces + i, now));
    traces += n;
    await writer.insert({ table: `${NAME}.events_full`, values: batch.flatMap((b) => b.start), format: 'JSONEachRow' });
    await writer.insert({ table: `${NAME}.events_full`, values: batch.flatMap((b) => b.end), format: 'JSONEachRow' });
  };
  await write(5);
  say('· 5 traces (15 spans) in ClickHouse before the pipeline starts (they arrive through the first poll)');

  const services = new DemoServices('demo-langfuse', {
    source: { url: env.pgUrl, platform: 'langfuse', schema: NAME, publication: { name: NAME }, slot: { name: NAME } },
    clickhouse: { url: ch.httpsUrl, caFile: ch.caFile, username: ch.readerUser, password: ch.readerPassword, database: NAME },
    kafka: { brokers: env.kafkaBrokers, topicPrefix: NAME, partitions: 2, stateTopic: `${NAME}-state` },
    registry: { url: env.registryUrl },
    http: { host: '127.0.0.1', port: 18093 }, failurePolicy: 'exit',
  }, demoSinkConfig(NAME, 'langfuse', 18094));
  const wh = await warehouse();
  try {
    services.start();
    say('· connector (Postgres + ClickHouse over TLS, as a read-only user) and sink started; a trickle of traces for ~10 s');
    let lastWrite = 0;
    for (let round = 0; round < 5; round++) {
      await new Promise((r) => setTimeout(r, round === 0 ? 0 : 2000));
      await write(3);
      lastWrite = Date.now();
    }
    const expected = traces * 3;
    let seen = -1;
    for (const deadline = Date.now() + 300_000; seen !== expected && Date.now() < deadline;) {
      if (services.failed) throw new Error('a service exited early');
      await new Promise((r) => setTimeout(r, 500));
      seen = Number((await wh.query<{ n: number }>(`SELECT count(*) AS n FROM ${NAME}.llm_spans WHERE project = 'support-bot' AND (span_kind != 'GENERATION' OR cost_usd IS NOT NULL)`).catch(() => [{ n: -1 }]))[0]?.n);
    }
    if (seen !== expected) throw new Error(`llm_spans has ${seen} finished spans, ClickHouse ${expected}`);
    say(`· llm_spans caught up ${((Date.now() - lastWrite) / 1000).toFixed(1)} s after the last span was written to ClickHouse (${expected} spans, generations ended)\n`);
    await showViews(wh, NAME);
    const offsets = await (await fetch('http://127.0.0.1:18093/offsets')).json() as { clickhouse?: unknown };
    say(`connector position in ClickHouse (GET /offsets): ${JSON.stringify(offsets.clickhouse).slice(0, 200)}…`);
    say(`done. Logs: ${services.logOf('connector')}, ${services.logOf('sink')}`);
  } finally {
    await services.stop();
    await wh.close();
    await writer.close();
    await admin.close();
    await db.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exit(1);
});
