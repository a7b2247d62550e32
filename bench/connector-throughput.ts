// Streaming PG → Kafka throughput of the connector next to the decode ceiling (pg_recvlogical reading the
// same kind of pgoutput slot to /dev/null), measured in one run on the same backlog, in BENCH_ROUNDS rounds
// (default 3; each reads the backlog again from slots of its own) because a single reading of the ceiling moves
// by ±30% on this machine; the summary gives the medians. Appends to docs/benchmarks.md. Run: make
// bench-connector (the stack must be up).
import pg from 'pg';
import { parseLsn } from '../schemas/src/lsn.ts';
import { cpuWindow, formatCpu, type CpuShare } from './lib/cpu.ts';
import { appendResults, createBenchTable, env, fillBenchTable, lsnNow, machine, median, recvlogicalSeconds, sleep, startOurs, today, treePeakRssMb } from './lib/harness.ts';

const RUN = `bench_${Date.now().toString(36)}`;
const SMALL_ROWS = Number(process.env.BENCH_SMALL_ROWS ?? 200_000);
const SPAN_ROWS = Number(process.env.BENCH_SPAN_ROWS ?? 50_000);
/** the connector is measured with its encoder on a worker thread (the default) and on the main thread */
const MODES = [{ slot: 'thread', workerThread: true, label: 'worker thread' }, { slot: 'inline', workerThread: false, label: 'main thread' }] as const;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** BENCH_COMPRESSION=none|gzip|zstd: the connector's kafka.compression (default: its own default, zstd) */
const COMPRESSION = process.env.BENCH_COMPRESSION;
const SLOTS = Array.from({ length: ROUNDS }, (_, r) => ['recv', ...MODES.map((m) => m.slot)].map((s) => `${s}${r + 1}`)).flat();

async function prepare(db: pg.Client, kind: 'small' | 'spans', rows: number): Promise<{ endLsn: string; bytes: number }> {
  const table = `${RUN}.${kind}`;
  await createBenchTable(db, table, kind);
  await db.query(`CREATE PUBLICATION ${RUN}_${kind} FOR TABLE ${table}`);
  for (const slot of SLOTS) await db.query(`SELECT pg_create_logical_replication_slot('${RUN}_${kind}_${slot}', 'pgoutput')`);
  const bytes = await fillBenchTable(db, table, kind, rows);
  return { endLsn: await lsnNow(db), bytes };
}

function ceiling(kind: string, endLsn: string, round: number): number {
  return recvlogicalSeconds(`${RUN}_${kind}_recv${round}`, `${RUN}_${kind}`, endLsn);
}

async function connector(db: pg.Client, kind: string, endLsn: string, mode: (typeof MODES)[number], round: number): Promise<{ seconds: number; rssMb: number; cpu: CpuShare }> {
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR] : [];
  const slot = `${RUN}_${kind}_${mode.slot}${round}`;
  const run = startOurs({
    source: { url: env.pgUrl, tables: [`${RUN}.${kind}`], publication: { name: `${RUN}_${kind}` }, slot: { name: slot }, snapshot: { mode: 'no_data' } },
    kafka: { brokers: env.kafkaBrokers, topicPrefix: `${RUN}_${mode.slot}`, partitions: 3, stateTopic: `${RUN}-${mode.slot}-state`, ...(COMPRESSION ? { compression: COMPRESSION } : {}) },
    registry: { url: env.registryUrl },
    encoder: { workerThread: mode.workerThread },
  }, profile);
  try {
    const started = await run.logged('streaming');
    const cpu = cpuWindow();
    const target = parseLsn(endLsn);
    for (;;) {
      const { rows: [s] } = await db.query<{ c: string }>('SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      if (parseLsn(s!.c) >= target) break;
      await sleep(20);
    }
    return { seconds: (performance.now() - started) / 1000, rssMb: treePeakRssMb(run.child.pid!), cpu: cpu() };
  } finally {
    await run.stop();
  }
}

async function main(): Promise<void> {
  const db = new pg.Client({ connectionString: env.pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${RUN}`);
  const results: string[] = [];
  const cpuLines: string[] = [];
  const summary: string[] = [];
  try {
    for (const [kind, rows] of [['small', SMALL_ROWS], ['spans', SPAN_ROWS]] as const) {
      process.stdout.write(`${kind}: writing ${rows} rows…\n`);
      const { endLsn, bytes } = await prepare(db, kind, rows);
      const ceilings: number[] = [];
      const rates = new Map(MODES.map((m) => [m.label, [] as number[]]));
      const shares = new Map(MODES.map((m) => [m.label, [] as number[]]));
      for (let round = 1; round <= ROUNDS; round++) {
        const c = ceiling(kind, endLsn, round);
        ceilings.push(rows / c);
        for (const mode of MODES) {
          const r = await connector(db, kind, endLsn, mode, round);
          rates.get(mode.label)!.push(rows / r.seconds);
          shares.get(mode.label)!.push(c / r.seconds);
          const line = `| ${kind} (~${bytes} B/row) | ${rows} | ${round} | ${Math.round(rows / c)} ev/s (${c.toFixed(2)} s) | ${mode.label} | ${Math.round(rows / r.seconds)} ev/s (${r.seconds.toFixed(2)} s) | ${((c / r.seconds) * 100).toFixed(0)}% | ${r.rssMb.toFixed(0)} MB |`;
          // (not for the ceiling: pg_recvlogical and its walsender are gone before a window could end and see them)
          cpuLines.push(`- ${kind}, round ${round}, connector with its encoder on the ${mode.label}: ${formatCpu(r.cpu)}`);
          process.stdout.write(`${line}\n${cpuLines.at(-1)}\n`);
          results.push(line);
        }
      }
      await dropSlots(db, kind); // before the next kind's: slots are few (max_replication_slots)
      for (const mode of MODES) {
        summary.push(`| ${kind} | ${mode.label} | ${Math.round(median(ceilings))} ev/s | ${Math.round(median(rates.get(mode.label)!))} ev/s | ${(median(shares.get(mode.label)!) * 100).toFixed(0)}% (${shares.get(mode.label)!.map((x) => `${(x * 100).toFixed(0)}%`).join(', ')}) |`);
      }
    }
  } finally {
    for (const kind of ['small', 'spans']) await dropSlots(db, kind);
    for (const kind of ['small', 'spans']) await db.query(`DROP PUBLICATION IF EXISTS ${RUN}_${kind}`);
    await db.query(`DROP SCHEMA ${RUN} CASCADE`);
    await db.end();
  }
  appendResults([
    `## Connector streaming PG → Kafka — ${today()}`, '',
    `Machine: ${machine()}; Postgres, Kafka and the registry on the same cores. Record compression: ${COMPRESSION ?? 'zstd (the default)'}.`,
    'Backlog written first (1000-row transactions), then read from three pgoutput slots in turn: `pg_recvlogical` to',
    '/dev/null (decode ceiling: Postgres decoding + transfer, no processing) and the connector (decode, Avro, Kafka',
    'acks=all, slot confirmation) twice: decoding and encoding on its worker thread (the default), and on its main',
    'thread (`encoder.workerThread: false`). Connector time runs from its "streaming" log line to confirmed_flush_lsn ≥',
    'the backlog end.',
    '', `Medians of ${ROUNDS} rounds (each round: the ceiling, then the connector in each mode, on fresh slots):`, '',
    '| rows | encoder on the | ceiling | connector | of ceiling, median (each round) |', '| --- | --- | --- | --- | --- |',
    ...summary, '',
    '| rows | count | round | pg_recvlogical (ceiling) | encoder on the | connector | of ceiling | connector peak RSS |', '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results, '',
    'Where the cores went while the connector read (CPU time of each component, in % of one core; 200% is both cores):', '',
    ...cpuLines,
  ]);
}

async function dropSlots(db: pg.Client, kind: string): Promise<void> {
  for (const s of SLOTS) {
    await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [`${RUN}_${kind}_${s}`]).catch(() => undefined);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
