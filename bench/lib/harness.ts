// What the connector benchmarks share: the bench tables and their backlog, the pg_recvlogical ceiling, our
// connector as a child process, peak RSS of a process tree, Kafka topic counts, clean-up, and the results file.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Admin, Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { topicRanges } from '../../runtime/kafka-offsets.ts';
import { stack } from '../../scripts/stack/stack-env.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const env = stack();
export type Kind = 'small' | 'spans';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function pgBin(name: string): string {
  const bin = readdirSync('/usr/lib/postgresql').sort().reverse().map((v) => `/usr/lib/postgresql/${v}/bin/${name}`).find(existsSync);
  if (!bin) throw new Error(`${name} not found under /usr/lib/postgresql`);
  return bin;
}

export async function lsnNow(db: pg.Client): Promise<string> {
  return (await db.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l;
}

/** `small`: ~176 B rows (int, 128-char text, timestamptz); `spans`: ~1.9 KB span-like rows (jsonb attributes). */
export async function createBenchTable(db: pg.Client, table: string, kind: Kind): Promise<void> {
  if (kind === 'small') {
    await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, a int, b text, c timestamptz)`);
  } else {
    await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, trace_id text, name text, attributes jsonb, start_time timestamptz, end_time timestamptz, tokens int)`);
  }
}

/** Inserts rows 1..rows in transactions of `perTx` rows; returns the average row size (pg_column_size). */
export async function fillBenchTable(db: pg.Client, table: string, kind: Kind, rows: number, perTx = 1000): Promise<number> {
  const select = kind === 'small'
    ? `SELECT g, g % 1000, md5(g::text) || md5((g+1)::text) || md5((g+2)::text) || md5((g+3)::text), now()`
    : `SELECT g, 'trace-' || (g / 5), 'ChatCompletion',
        jsonb_build_object('llm', jsonb_build_object('model_name', 'gpt-4o', 'token_count', jsonb_build_object('prompt', g % 500, 'completion', 42)),
          'input', jsonb_build_object('value', repeat(md5(g::text), 30)), 'output', jsonb_build_object('value', repeat(md5((g+1)::text), 20))),
        now(), now(), g % 700`;
  for (let done = 0; done < rows; done += perTx) {
    await db.query(`INSERT INTO ${table} ${select} FROM generate_series($1::bigint, $2::bigint) g`, [done + 1, Math.min(done + perTx, rows)]);
  }
  const { rows: [size] } = await db.query<{ b: string }>(`SELECT avg(pg_column_size(t.*))::int AS b FROM ${table} t`);
  return Number(size!.b);
}

/** Seconds pg_recvlogical takes to read `slot` (pgoutput, `publication`) up to `endLsn`, writing to /dev/null. */
export function recvlogicalSeconds(slot: string, publication: string, endLsn: string): number {
  const started = performance.now();
  execFileSync(pgBin('pg_recvlogical'), ['-d', env.pgUrl, '--slot', slot, '--start', '--no-loop',
    '-o', 'proto_version=1', '-o', `publication_names=${publication}`, '-E', endLsn, '-f', '/dev/null'], { stdio: 'ignore' });
  return (performance.now() - started) / 1000;
}

/** Peak resident set (VmHWM) summed over `pid` and its live descendants, in MB. */
export function treePeakRssMb(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch { /* exited meanwhile */ }
  }
  let kb = 0;
  for (const queue = [pid]; queue.length > 0;) {
    const p = queue.pop()!;
    try {
      kb += Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch { /* exited meanwhile */ }
    queue.push(...(children.get(p) ?? []));
  }
  return kb / 1024;
}

/** Current resident set of one process, in MB. */
export function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

/** A service's command line through the unified CLI. */
function serviceCommand(service: 'connector' | 'sink', configFile: string): string[] {
  return [`${ROOT}cli/tracelake.ts`, service, '--config', configFile];
}

export interface OursRun {
  child: ChildProcess;
  /** performance.now() when the process was spawned */
  spawnedAt: number;
  /** resolves with performance.now() at the first log line whose msg is `msg` */
  logged(msg: string): Promise<number>;
  /** the last log lines (for error messages) */
  tail(): string;
  stop(): Promise<void>;
}

/** The allocator setting bin/tracelake and the image give both services (their NODE_OPTIONS come as node flags). */
export const MALLOC_MMAP_THRESHOLD = process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072';

/** BENCH_SINK_BATCHING='{"maxRows": 10000}': sink batching other than its defaults, to weigh them (make bench-sink, bench-burst). */
export function benchSinkBatching(): Record<string, number> {
  return JSON.parse(process.env.BENCH_SINK_BATCHING ?? '{}') as Record<string, number>;
}

/** BENCH_CHILD_STDOUT=file: every service's stdout is appended there too (e.g. with --trace-gc in BENCH_NODE_ARGS). */
const CHILD_STDOUT = process.env.BENCH_CHILD_STDOUT;

/** Starts our connector (or sink) with `config` (JSON), REST API on a free loopback port; stdout is scanned for log lines. */
export function startOurs(config: Record<string, unknown>, extraNodeArgs: string[] = [], service: 'connector' | 'sink' = 'connector'): OursRun {
  const dir = mkdtempSync(`${tmpdir()}/tracelake-bench-`);
  writeFileSync(`${dir}/c.json`, JSON.stringify({ http: { host: '127.0.0.1', port: 0 }, ...config }));
  const spawnedAt = performance.now();
  const env = { ...process.env, MALLOC_MMAP_THRESHOLD_: MALLOC_MMAP_THRESHOLD };
  const child = spawn(process.execPath, [...extraNodeArgs, ...serviceCommand(service, `${dir}/c.json`)], { stdio: ['ignore', 'pipe', 'inherit'], env });
  let out = '';
  const lines: string[] = [];
  const seen = new Map<string, number>();
  child.stdout!.on('data', (d: Buffer) => {
    const now = performance.now();
    if (CHILD_STDOUT) appendFileSync(CHILD_STDOUT, d);
    out += d.toString();
    const complete = out.split('\n');
    out = complete.pop()!;
    for (const line of complete) {
      const msg = /"msg":"([^"]*)"/.exec(line)?.[1];
      if (msg !== undefined && !seen.has(msg)) seen.set(msg, now);
      lines.push(line);
    }
    lines.splice(0, Math.max(0, lines.length - 20));
  });
  return {
    child,
    spawnedAt,
    async logged(msg) {
      while (!seen.has(msg)) {
        if (child.exitCode !== null) throw new Error(`connector exited with ${child.exitCode} before logging "${msg}":\n${lines.join('\n')}`);
        await sleep(5);
      }
      return seen.get(msg)!;
    },
    tail: () => lines.join('\n'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return; // gone already (an exit event would never come)
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export function kafkaAdmin(): Admin {
  return new Admin({ clientId: 'tracelake-bench', bootstrapBrokers: env.kafkaBrokers });
}

/** Messages in `topic` (sum of the partitions' end offsets; the topics are never compacted or truncated here). */
export async function topicCount(admin: Admin, topic: string): Promise<number> {
  try {
    return ((await topicRanges(admin, [topic])).get(topic) ?? []).reduce((n, p) => n + Number(p.high), 0);
  } catch {
    return 0; // not created yet
  }
}

/**
 * Polls `topic` every 50 ms until it holds `count` messages. Resolves with performance.now() of the first poll
 * that saw them all (`at`) and of the first that saw half of them (`halfAt`: the second half's rate leaves out
 * start-up and JIT warm-up). Fails after `timeoutMs` without progress, or when `alive()` turns false.
 */
export async function waitForTopicCount(admin: Admin, topic: string, count: number, opts: { timeoutMs?: number; alive?: () => boolean } = {}): Promise<{ at: number; halfAt: number }> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  let last = -1;
  let lastChange = performance.now();
  let halfAt: number | undefined;
  for (;;) {
    const n = await topicCount(admin, topic);
    const now = performance.now();
    if (halfAt === undefined && n >= count / 2) halfAt = now;
    if (n >= count) return { at: now, halfAt: halfAt! };
    if (n !== last) [last, lastChange] = [n, now];
    if (now - lastChange > timeoutMs) throw new Error(`${topic}: ${n} of ${count} messages, no progress for ${timeoutMs / 1000} s`);
    if (opts.alive && !opts.alive()) throw new Error(`${topic}: ${n} of ${count} messages and the producer is gone`);
    await sleep(50);
  }
}

/** The value of the first message of partition 0 of `topic`. */
export async function firstValue(topic: string): Promise<Buffer> {
  const consumer = new Consumer({ clientId: 'tracelake-bench', bootstrapBrokers: env.kafkaBrokers, groupId: `${topic}-peek-${Date.now()}` });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
    const timer = setTimeout(() => stream.destroy(new Error(`${topic}: no message within 30 s`)), 30_000);
    try {
      for await (const m of stream) if (m.partition === 0 && m.value) return m.value;
      throw new Error(`${topic}: the stream ended without a message`);
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => undefined);
    }
  } finally {
    await consumer.close(true);
  }
}

/** Drops everything named with `prefix`: inactive slots, publications, schemas, topics, consumer groups, registry subjects. */
export async function cleanUp(db: pg.Client, admin: Admin, prefix: string): Promise<void> {
  const like = `${prefix.replaceAll('_', '\\_')}%`;
  await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE $1 AND NOT active`, [like]);
  for (const { n } of (await db.query<{ n: string }>('SELECT pubname AS n FROM pg_publication WHERE pubname LIKE $1', [like])).rows) {
    await db.query(`DROP PUBLICATION IF EXISTS ${n}`);
  }
  for (const { n } of (await db.query<{ n: string }>('SELECT nspname AS n FROM pg_namespace WHERE nspname LIKE $1', [like])).rows) {
    await db.query(`DROP SCHEMA IF EXISTS ${n} CASCADE`);
  }
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics });
  const groups = [...(await admin.listGroups()).keys()].filter((g) => g.startsWith(prefix));
  if (groups.length > 0) await admin.deleteGroups({ groups }).catch(() => undefined);
  const subjects = (await (await fetch(`${env.registryUrl}/subjects`)).json()) as string[];
  for (const s of subjects.filter((x) => x.startsWith(prefix))) {
    await fetch(`${env.registryUrl}/subjects/${encodeURIComponent(s)}`, { method: 'DELETE' });
    await fetch(`${env.registryUrl}/subjects/${encodeURIComponent(s)}?permanent=true`, { method: 'DELETE' });
  }
}

/** One line naming the machine, for the results. */
export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
}

/** The median of repeated measurements (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The 1-minute load average, to say how busy the machine was around a measurement. */
export function load1(): string {
  return loadavg()[0]!.toFixed(2);
}

/** Appends a section to docs/benchmarks.md (BENCH_DRY_RUN=1: prints it instead, for trial runs). */
export function appendResults(lines: string[]): void {
  if (process.env.BENCH_DRY_RUN) {
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  const doc = `${ROOT}docs/benchmarks.md`;
  if (!existsSync(doc)) writeFileSync(doc, '# Benchmarks\n\nEvery figure is measured in one run next to its reference, on the machine named with it.\n');
  appendFileSync(doc, ['', ...lines, ''].join('\n'));
}

export const today = (): string => new Date().toISOString().slice(0, 10);
