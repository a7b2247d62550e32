// Initial snapshot of a spans-like table: our connector next to Debezium's PostgreSQL connector (Kafka Connect),
// same table, same Kafka and registry, in one run. Each takes its own slot (created by the connector with an
// exported snapshot) and publication, and writes Avro (Confluent wire format) to its own 3-partition topic.
// Time runs from the start (our process spawned / Debezium's connector POSTed to a running worker) until the
// topic's end offsets sum to the row count. Appends to docs/benchmarks.md.
// Run: make bench-snapshot [ROWS=n] (the stack must be up). Rows: --rows N or BENCH_SNAPSHOT_ROWS (default 500000;
// issue 8 names 5M: ~10 GB of table, as much WAL and ~10 GB per reader's topic here). BENCH_DBZ_JSON=0 leaves out the
// second Debezium snapshot (Kafka's JsonConverter without schemas, no registry). BENCH_DRY_RUN=1 prints the results.
import { parseArgs } from 'node:util';
import type { Admin } from '@platformatic/kafka';
import {
  appendResults, createBenchTable, env, fillBenchTable, load1, machine, startOurs, today, treePeakRssMb, waitForTopicCount,
} from './lib/harness.ts';
import { parseConnectorConfig } from '../connector/src/config.ts';
import { cpuWindow, formatCpu, type CpuShare } from './lib/cpu.ts';
import { benchSession, debeziumConfig, runDebezium, versions } from './lib/debezium.ts';

const PREFIX = 'bench_dbz_';
const RUN = `${PREFIX}snap_${Date.now().toString(36)}`;
const { values: args } = parseArgs({ options: { rows: { type: 'string' } } });
const ROWS = Number(args.rows ?? process.env.BENCH_SNAPSHOT_ROWS ?? 500_000);
if (!Number.isInteger(ROWS) || ROWS <= 0) throw new Error(`--rows must be a positive integer, not ${args.rows ?? process.env.BENCH_SNAPSHOT_ROWS}`);
const TABLE = `${RUN}.spans`;
const WITH_JSON = process.env.BENCH_DBZ_JSON !== '0';
// our connector once per reader count: the first is the default, the others show what parallel reads bring
const READERS = (process.env.BENCH_SNAPSHOT_READERS ?? '1,2').split(',').map(Number);

interface Measured { seconds: number; rssMb: number; idleMb?: number; own?: string; cpu: CpuShare }

async function ours(admin: Admin, readers: number, workerThread = true): Promise<Measured> {
  const id = `ours${readers}${workerThread ? '' : 'main'}`;
  const cpu = cpuWindow();
  const run = startOurs({
    source: {
      url: env.pgUrl, tables: [TABLE], publication: { name: `${RUN}_ours`, autocreate: 'disabled' },
      slot: { name: `${RUN}_${id}` }, snapshot: { mode: 'initial', readers },
    },
    kafka: { brokers: env.kafkaBrokers, topicPrefix: `${RUN}_${id}`, partitions: 3, stateTopic: `${RUN}_${id}-state` },
    registry: { url: env.registryUrl },
    encoder: { workerThread },
  });
  try {
    const done = await waitForTopicCount(admin, `${RUN}_${id}.${TABLE}`, ROWS, { alive: () => run.child.exitCode === null });
    const completed = await run.logged('snapshot completed');
    return { seconds: (done.at - run.spawnedAt) / 1000, rssMb: treePeakRssMb(run.child.pid!), own: `"snapshot completed" ${((completed - run.spawnedAt) / 1000).toFixed(1)} s after spawn`, cpu: cpu() };
  } catch (err) {
    throw new Error(`${(err as Error).message}\nour connector's last log lines:\n${run.tail()}`);
  } finally {
    await run.stop();
  }
}

async function debezium(admin: Admin, format: 'avro' | 'json'): Promise<Measured> {
  const id = format === 'avro' ? 'dbz' : 'dbzjson';
  const r = await runDebezium(admin, {
    name: `${RUN}_${id}`, topic: `${RUN}_${id}.${TABLE}`, rows: ROWS, from: 'post',
    config: debeziumConfig({ table: TABLE, slot: `${RUN}_${id}`, publication: `${RUN}_dbz`, topicPrefix: `${RUN}_${id}`, snapshot: 'initial', format }),
  });
  return { seconds: (r.done.at - r.startedAt) / 1000, rssMb: r.rssMb, idleMb: r.idleMb, cpu: r.cpu };
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  let line: string;
  const load: string[] = [];
  let own: string | undefined;
  const cpuLines: string[] = [];
  await benchSession(PREFIX, RUN, async (db, admin) => {
    await db.query(`CREATE SCHEMA ${RUN}`);
    await createBenchTable(db, TABLE, 'spans');
    process.stdout.write(`writing ${ROWS} span rows…\n`);
    const bytes = await fillBenchTable(db, TABLE, 'spans', ROWS, 10_000);
    // both readers find the table vacuumed (hint bits set, visibility map current) and in the page cache
    await db.query(`VACUUM (ANALYZE) ${TABLE}`);
    await db.query('CHECKPOINT');
    const { rows: [size] } = await db.query<{ s: string }>(`SELECT pg_size_pretty(pg_total_relation_size('${TABLE}')) AS s`);
    await db.query(`CREATE PUBLICATION ${RUN}_ours FOR TABLE ${TABLE}`);
    await db.query(`CREATE PUBLICATION ${RUN}_dbz FOR TABLE ${TABLE}`);
    load.push(load1());
    const all: Measured[] = [];
    for (const n of READERS) {
      all.push(await ours(admin, n));
      load.push(load1());
    }
    // and the default reader count once more with the encoder on the main thread: what its worker thread brings
    const mainThread = await ours(admin, READERS[0]!, false);
    load.push(load1());
    const o = all[0]!;
    const d = await debezium(admin, 'avro');
    load.push(load1());
    const j = WITH_JSON ? await debezium(admin, 'json') : undefined;
    if (j) load.push(load1());
    own = o.own;
    READERS.forEach((n, i) => cpuLines.push(`- ours, ${n} reader(s): ${formatCpu(all[i]!.cpu)}`));
    cpuLines.push(`- ours, ${READERS[0]} reader(s), encoder on the main thread: ${formatCpu(mainThread.cpu)}`);
    cpuLines.push(`- Debezium (Avro): ${formatCpu(d.cpu)}`);
    if (j) cpuLines.push(`- Debezium (JSON): ${formatCpu(j.cpu)}`);
    process.stdout.write(`${cpuLines.join('\n')}\n`);
    const rate = (m: Measured): string => `${Math.round(ROWS / m.seconds)} rows/s (${m.seconds.toFixed(1)} s)`;
    const others = [...all.slice(1), mainThread].map((m) => ` ${rate(m)}, ${m.rssMb.toFixed(0)} MB |`).join('');
    line = `| ${ROWS} (~${bytes} B/row, ${size!.s}) | ${rate(o)} | ${rate(d)} | ${(d.seconds / o.seconds).toFixed(2)}× | ${o.rssMb.toFixed(0)} MB | ${d.rssMb.toFixed(0)} MB (idle ${d.idleMb!.toFixed(0)} MB) |${others}${j ? ` ${rate(j)}, ${j.rssMb.toFixed(0)} MB |` : ''}`;
    process.stdout.write(`${line}\n`);
  });
  const v = versions();
  const chunkRows = parseConnectorConfig({ source: { url: env.pgUrl, tables: [TABLE] }, kafka: { brokers: env.kafkaBrokers }, registry: { url: env.registryUrl } }).source.snapshot.chunkRows;
  appendResults([
    `## Initial snapshot: connector vs Debezium — ${today()}`, '',
    `Machine: ${machine()}; Postgres, Kafka, the registry and the measured process on the same cores.`,
    `A spans-like table (jsonb attributes) written in 10000-row transactions, vacuumed and checkpointed, then snapshotted`,
    `by our connector (\`snapshot.mode: initial\`, defaults: ${READERS[0]} readers over block ranges of ~${chunkRows} rows, next chunk prefetched) and by Debezium ${v.debezium}`,
    `(\`snapshot.mode=initial\`, defaults: one table reader, snapshot.fetch.size 10240) on one Kafka Connect ${v.kafka} distributed`,
    `worker (${v.heap}, G1; Avro through Apicurio's converter ${v.converter}), one after the other, all on their defaults.`,
    'Time from our process\'s spawn / Debezium\'s connector POST to a running worker until all rows are in the topic',
    '(end offsets, polled every 50 ms). Peak RSS is VmHWM summed over the process tree.',
    ...(WITH_JSON ? ['Last column: Debezium again, own slot, with Kafka\'s JsonConverter (schemas.enable=false, no registry), a reference', 'for what the Avro converter costs; not a like-for-like output.'] : []),
    ...(READERS.length > 1 ? [`Then ours again with ${READERS.slice(1).join(', ')} reader(s) (its own slot and topic), for what parallel reads bring.`] : []),
    `And ours with ${READERS[0]} reader(s) and \`encoder.workerThread: false\` (decoding and Avro on the main thread), for what the worker thread brings.`,
    '', `| rows | ours | Debezium (Avro) | ours ÷ Debezium | ours peak RSS | Debezium peak RSS |${READERS.slice(1).map((n) => ` ours, ${n} reader(s), peak RSS |`).join('')} ours, encoder on the main thread, peak RSS |${WITH_JSON ? ' Debezium JSON, peak RSS |' : ''}`,
    `| --- | --- | --- | --- | --- | --- |${READERS.slice(1).map(() => ' --- |').join('')} --- |${WITH_JSON ? ' --- |' : ''}`,
    line!, '',
    `Ours: ${own}. 1-min load average before each reading (ours × ${READERS.length + 1}, Debezium${WITH_JSON ? ', Debezium JSON' : ''}) and after: ${load.join(' / ')}.  `,
    `Whole run (table written, snapshots, clean-up): ${((performance.now() - startedAt) / 1000).toFixed(0)} s.`, '',
    'Where the cores went during each reading (CPU time of each component over the reading, in % of one core; 200% is',
    'both cores):', '', ...cpuLines,
  ]);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
