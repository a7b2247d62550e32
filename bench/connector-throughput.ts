// Streaming PG → Kafka throughput of the connector next to the decode ceiling (pg_recvlogical reading the
// same kind of pgoutput slot to /dev/null), measured in one run on the same backlog. Appends to
// docs/benchmarks.md. Run: make bench-connector (the stack must be up).
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stack } from '../scripts/stack/stack-env.ts';
import { parseLsn } from '../schemas/src/lsn.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const env = stack();
const RUN = `bench_${Date.now().toString(36)}`;
const SMALL_ROWS = Number(process.env.BENCH_SMALL_ROWS ?? 200_000);
const SPAN_ROWS = Number(process.env.BENCH_SPAN_ROWS ?? 50_000);

function pgBin(name: string): string {
  const dir = readdirSync('/usr/lib/postgresql').sort().reverse().map((v) => `/usr/lib/postgresql/${v}/bin/${name}`).find(existsSync);
  if (!dir) throw new Error(`${name} not found under /usr/lib/postgresql`);
  return dir;
}

async function lsnNow(db: pg.Client): Promise<string> {
  return (await db.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l;
}

async function prepare(db: pg.Client, kind: 'small' | 'spans', rows: number): Promise<{ endLsn: string; bytes: number }> {
  const table = `${RUN}.${kind}`;
  if (kind === 'small') {
    await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, a int, b text, c timestamptz)`);
  } else {
    await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, trace_id text, name text, attributes jsonb, start_time timestamptz, end_time timestamptz, tokens int)`);
  }
  await db.query(`CREATE PUBLICATION ${RUN}_${kind} FOR TABLE ${table}`);
  for (const slot of ['recv', 'conn']) await db.query(`SELECT pg_create_logical_replication_slot('${RUN}_${kind}_${slot}', 'pgoutput')`);
  for (let done = 0; done < rows; done += 1000) {
    if (kind === 'small') {
      await db.query(`INSERT INTO ${table} SELECT g, g % 1000, md5(g::text) || md5((g+1)::text) || md5((g+2)::text) || md5((g+3)::text), now() FROM generate_series($1::bigint, $2::bigint) g`, [done + 1, Math.min(done + 1000, rows)]);
    } else {
      await db.query(`INSERT INTO ${table} SELECT g, 'trace-' || (g / 5), 'ChatCompletion',
        jsonb_build_object('llm', jsonb_build_object('model_name', 'gpt-4o', 'token_count', jsonb_build_object('prompt', g % 500, 'completion', 42)),
          'input', jsonb_build_object('value', repeat(md5(g::text), 30)), 'output', jsonb_build_object('value', repeat(md5((g+1)::text), 20))),
        now(), now(), g % 700 FROM generate_series($1::bigint, $2::bigint) g`, [done + 1, Math.min(done + 1000, rows)]);
    }
  }
  const { rows: [size] } = await db.query<{ b: string }>(`SELECT avg(pg_column_size(t.*))::int AS b FROM ${table} t`);
  return { endLsn: await lsnNow(db), bytes: Number(size!.b) };
}

function ceiling(kind: string, endLsn: string): number {
  const started = performance.now();
  execFileSync(pgBin('pg_recvlogical'), ['-d', env.pgUrl, '--slot', `${RUN}_${kind}_recv`, '--start', '--no-loop',
    '-o', 'proto_version=1', '-o', `publication_names=${RUN}_${kind}`, '-E', endLsn, '-f', '/dev/null'], { stdio: 'ignore' });
  return (performance.now() - started) / 1000;
}

async function connector(db: pg.Client, kind: string, endLsn: string): Promise<{ seconds: number; rssMb: number }> {
  const dir = mkdtempSync(`${tmpdir()}/tracelake-bench-`);
  writeFileSync(`${dir}/c.json`, JSON.stringify({
    source: { url: env.pgUrl, tables: [`${RUN}.${kind}`], publication: { name: `${RUN}_${kind}` }, slot: { name: `${RUN}_${kind}_conn` }, snapshot: { mode: 'no_data' } },
    kafka: { brokers: env.kafkaBrokers, topicPrefix: RUN, partitions: 3, stateTopic: `${RUN}-state` },
    registry: { url: env.registryUrl },
    http: { host: '127.0.0.1', port: 0 },
  }));
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR] : [];
  const child = spawn(process.execPath, [...profile, `${ROOT}cli/tracelake.ts`, 'connector', '--config', `${dir}/c.json`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  while (!out.includes('"msg":"streaming"')) {
    if (child.exitCode !== null) throw new Error(`connector exited:\n${out}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const started = performance.now();
  const target = parseLsn(endLsn);
  for (;;) {
    const { rows: [s] } = await db.query<{ c: string }>('SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = $1', [`${RUN}_${kind}_conn`]);
    if (parseLsn(s!.c) >= target) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const rssMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  return { seconds, rssMb };
}

async function main(): Promise<void> {
  const db = new pg.Client({ connectionString: env.pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${RUN}`);
  const results: string[] = [];
  try {
    for (const [kind, rows] of [['small', SMALL_ROWS], ['spans', SPAN_ROWS]] as const) {
      process.stdout.write(`${kind}: writing ${rows} rows…\n`);
      const { endLsn, bytes } = await prepare(db, kind, rows);
      const c = ceiling(kind, endLsn);
      const r = await connector(db, kind, endLsn);
      const line = `| ${kind} (~${bytes} B/row) | ${rows} | ${Math.round(rows / c)} ev/s (${c.toFixed(2)} s) | ${Math.round(rows / r.seconds)} ev/s (${r.seconds.toFixed(2)} s) | ${((c / r.seconds) * 100).toFixed(0)}% | ${r.rssMb.toFixed(0)} MB |`;
      process.stdout.write(`${line}\n`);
      results.push(line);
    }
  } finally {
    for (const kind of ['small', 'spans']) for (const s of ['recv', 'conn']) {
      await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [`${RUN}_${kind}_${s}`]).catch(() => undefined);
    }
    for (const kind of ['small', 'spans']) await db.query(`DROP PUBLICATION IF EXISTS ${RUN}_${kind}`);
    await db.query(`DROP SCHEMA ${RUN} CASCADE`);
    await db.end();
  }
  const doc = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
  if (!existsSync(doc)) writeFileSync(doc, '# Benchmarks\n\nEvery figure is measured in one run next to its reference, on the machine named with it.\n');
  appendFileSync(doc, [
    '', `## Connector streaming PG → Kafka — ${new Date().toISOString().slice(0, 10)}`, '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Postgres, Kafka and the registry on the same cores.`,
    'Backlog written first (1000-row transactions), then read from two pgoutput slots: `pg_recvlogical` to /dev/null',
    '(decode ceiling: Postgres decoding + transfer, no processing) and the connector (decode, Avro, Kafka acks=all,',
    'slot confirmation). Connector time runs from its "streaming" log line to confirmed_flush_lsn ≥ the backlog end.',
    '', '| rows | count | pg_recvlogical (ceiling) | connector | of ceiling | connector peak RSS |', '| --- | --- | --- | --- | --- | --- |',
    ...results, '',
  ].join('\n'));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
