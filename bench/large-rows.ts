// Large rows: a backlog of ~1 MB rows, one of ~8 MB rows, and a few rows at the row ceiling (~60 MB), each
// streamed by the connector (MB/s beside pg_recvlogical reading the same backlog from a slot of its own, the
// decode ceiling) and merged by the sink into Delta (MB/s), with the peak RSS (VmHWM) of each service under the
// V8 heap bounds bin/tracelake and the image set. Rows look like LLM spans with images: half an image data URL
// (random bytes in base64, as incompressible as a photo), half prose with quotes, backslashes and emoji.
// BENCH_ROUNDS (default 2) rounds of the connector and the ceiling per size; BENCH_LARGE_SINK=0 leaves the sink
// out (the connector alone, e.g. to weigh a change to it). Appends to docs/benchmarks.md.
// Run: node bench/large-rows.ts (the stack must be up and idle).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { parseLsn } from '../schemas/src/lsn.ts';
import { connectWarehouse } from '../sink/src/warehouse/databricks-client.ts';
import { cpuWindow } from './lib/cpu.ts';
import {
  appendResults, cleanUp, env, kafkaAdmin, load1, lsnNow, machine, MALLOC_MMAP_THRESHOLD, median, recvlogicalSeconds, sleep, startOurs, today, treePeakRssMb,
} from './lib/harness.ts';

const RUN = `bench_large_${Date.now().toString(36)}`;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '--max-semi-space-size=8 --max-old-space-size=256').split(' ').filter(Boolean);
const MB = 1_000_000;
/** BENCH_COMPRESSION=none|gzip|zstd: the connector's kafka.compression (default: its own default, zstd) */
const COMPRESSION = process.env.BENCH_COMPRESSION;
const WITH_SINK = process.env.BENCH_LARGE_SINK !== '0';
/** size of a row, rows in the backlog (0: left out) */
const CASES: Array<{ name: string; rowBytes: number; rows: number }> = [
  { name: '1 MB', rowBytes: MB, rows: Number(process.env.BENCH_LARGE_1MB_ROWS ?? 150) },
  { name: '8 MB', rowBytes: 8 * MB, rows: Number(process.env.BENCH_LARGE_8MB_ROWS ?? 20) },
  { name: '60 MB', rowBytes: 60 * MB, rows: Number(process.env.BENCH_LARGE_60MB_ROWS ?? 2) },
];

function prose(bytes: number, seed: number): string {
  const words = ["it's", '"quoted"', 'back\\slash', 'emoji😀', 'the', 'context', 'token', '${x}', 'model', 'answer'];
  const parts: string[] = [];
  for (let i = 0, size = 0; size < bytes; i++) {
    const w = `${words[(i * 7 + seed) % words.length]}${(i * 31 + seed) % 99991} `;
    parts.push(w);
    size += Buffer.byteLength(w);
  }
  return parts.join('');
}

/** One row's values: an image data URL and a prose prompt, about `bytes` together. */
function rowValues(bytes: number, seed: number): [string, string] {
  return [`data:image/jpeg;base64,${randomBytes(Math.floor((bytes / 2) * 0.75)).toString('base64')}`, prose(bytes / 2, seed)];
}


async function waitForSlot(db: pg.Client, slot: string, endLsn: string, alive: () => boolean): Promise<void> {
  const target = parseLsn(endLsn);
  for (;;) {
    const { rows: [s] } = await db.query<{ c: string }>('SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (parseLsn(s!.c) >= target) return;
    if (!alive()) throw new Error('the connector exited');
    await sleep(50);
  }
}

async function main(): Promise<void> {
  const db = new pg.Client({ connectionString: env.pgUrl });
  await db.connect();
  const admin = kafkaAdmin();
  const wh = await connectWarehouse({ ...env.warehouse, auth: { token: env.warehouse.token } });
  const rows: string[] = [];
  const load = [load1()];
  try {
    await db.query(`CREATE SCHEMA ${RUN}`);
    for (const [i, c] of CASES.entries()) {
      if (c.rows === 0) continue; // BENCH_LARGE_<size>_ROWS=0 leaves a size out
      const table = `t${i}`;
      const qualified = `${RUN}.${table}`;
      const slots = Array.from({ length: ROUNDS }, (_, r) => [`${RUN}_${i}_recv${r}`, `${RUN}_${i}_ours${r}`]).flat();
      await db.query(`CREATE TABLE ${qualified} (id int PRIMARY KEY, image text, prompt text)`);
      await db.query(`CREATE PUBLICATION ${RUN}_${i} FOR TABLE ${qualified}`);
      for (const s of slots) await db.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [s]);
      process.stdout.write(`${c.name}: writing ${c.rows} rows…\n`);
      let bytes = 0;
      for (let id = 1; id <= c.rows; id++) {
        const [image, prompt] = rowValues(c.rowBytes, id);
        bytes += Buffer.byteLength(image) + Buffer.byteLength(prompt);
        await db.query(`INSERT INTO ${qualified} VALUES ($1, $2, $3)`, [id, image, prompt]);
      }
      const endLsn = await lsnNow(db);
      const ceilings: number[] = [];
      const ours: number[] = [];
      /** CPU seconds per 100 MB while the connector streamed: its own (main and encoder threads), the broker's, Postgres' (its walsender) */
      const cpu: number[] = [];
      const brokerCpu: number[] = [];
      const postgresCpu: number[] = [];
      let connectorRss = 0;
      for (let r = 0; r < ROUNDS; r++) {
        ceilings.push(bytes / MB / recvlogicalSeconds(`${RUN}_${i}_recv${r}`, `${RUN}_${i}`, endLsn));
        const run = startOurs({
          source: { url: env.pgUrl, tables: [qualified], publication: { name: `${RUN}_${i}` }, slot: { name: `${RUN}_${i}_ours${r}` }, snapshot: { mode: 'no_data' } },
          kafka: { brokers: env.kafkaBrokers, topicPrefix: `${RUN}_${i}_${r}`, partitions: 1, stateTopic: `${RUN}-${i}-${r}-state`, ...(COMPRESSION ? { compression: COMPRESSION } : {}) },
          registry: { url: env.registryUrl },
        }, NODE_ARGS);
        try {
          const started = await run.logged('streaming');
          const window = cpuWindow();
          await waitForSlot(db, `${RUN}_${i}_ours${r}`, endLsn, () => run.child.exitCode === null && run.child.signalCode === null);
          ours.push(bytes / MB / ((performance.now() - started) / 1000));
          const used = window();
          const per100 = (component: string) => ((used.components[component] ?? 0) / 100) * used.seconds / (bytes / MB / 100);
          cpu.push(per100('ours'));
          brokerCpu.push(per100('Kafka'));
          postgresCpu.push(per100('Postgres'));
          connectorRss = Math.max(connectorRss, treePeakRssMb(run.child.pid!));
        } catch (err) {
          throw new Error(`${(err as Error).message}:\n${run.tail()}`);
        } finally {
          await run.stop();
        }
        process.stdout.write(`  round ${r + 1}: ceiling ${ceilings.at(-1)!.toFixed(1)} MB/s, connector ${ours.at(-1)!.toFixed(1)} MB/s\n`);
      }
      const sunk = WITH_SINK ? await sinkIntoDelta(i, table, c.rows, wh) : null;
      load.push(load1());
      const line = `| ${c.name} | ${c.rows} | ${(bytes / MB).toFixed(0)} MB | ${median(ceilings).toFixed(1)} MB/s (${ceilings.map((x) => x.toFixed(1)).join(', ')}) | ${median(ours).toFixed(1)} MB/s (${ours.map((x) => x.toFixed(1)).join(', ')}) | ${((median(ours) / median(ceilings)) * 100).toFixed(0)}% | ${median(cpu).toFixed(2)} s (${cpu.map((x) => x.toFixed(2)).join(', ')}); broker ${median(brokerCpu).toFixed(2)} s, Postgres ${median(postgresCpu).toFixed(2)} s | ${connectorRss.toFixed(0)} MB | ${!sunk ? '—' : sunk.failure ? `**failed**: ${sunk.failure}` : `${(bytes / MB / sunk.seconds).toFixed(1)} MB/s (${sunk.seconds.toFixed(0)} s)`} | ${sunk ? `${sunk.rss.toFixed(0)} MB` : '—'} |`;
      process.stdout.write(`${line}\n`);
      rows.push(line);
      for (const s of slots) await db.query('SELECT pg_drop_replication_slot($1)', [s]).catch(() => undefined);
      await db.query(`DROP PUBLICATION ${RUN}_${i}`);
      await wh.query(`DROP SCHEMA IF EXISTS ${RUN}_${i} CASCADE`).catch(() => undefined);
    }
  } finally {
    await db.query(`DROP SCHEMA IF EXISTS ${RUN} CASCADE`);
    await cleanUp(db, admin, RUN).catch((err: unknown) => process.stderr.write(`clean-up: ${(err as Error).message}\n`));
    await admin.close();
    await wh.close().catch(() => undefined); // the engine may have died in the run (a 60 MB staged MERGE): the results still count
    await db.end();
  }
  appendResults([
    `## Large rows: ~1 MB, ~8 MB and ~60 MB rows through both services — ${today()} (bench/large-rows.ts)`, '',
    `Machine: ${machine()}; Postgres, Kafka, the registry, Spark and the measured process on the same cores. Rows of an image`,
    'data URL (random bytes, base64) and a prose prompt, half each, written first (one row per transaction); then per size',
    `${ROUNDS} rounds of pg_recvlogical reading the backlog to /dev/null (the decode ceiling) and the connector on its defaults`,
    `(compression ${COMPRESSION ?? 'zstd'}, topics with max.message.bytes 96 MiB; time from its "streaming" line to the slot confirmed at the backlog end);`,
    'then the sink on its defaults reads the first round\'s topic into Delta (rows over maxStatementBytes staged in parts).',
    `MB/s are of the rows' text; CPU is user + system time while the connector streamed (bench/lib/cpu.ts): its process (both threads), the Kafka broker's and Postgres' (its walsender, mostly; all on the same cores). ${WITH_SINK ? '' : 'The sink was left out (BENCH_LARGE_SINK=0). '}Node flags of both services: ${NODE_ARGS.join(' ')}; MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD}.`, '',
    '| rows | count | backlog | pg_recvlogical, median (each) | connector, median (each) | of ceiling | CPU per 100 MB while it streamed: connector (each); broker, Postgres (medians) | connector peak RSS | sink into Delta | sink peak RSS |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows, '', `1-min load average before and after each size: ${load.join(' / ')}.`,
  ]);
}

/** The sink on its defaults reads the first round's topic of case `i` into Delta: seconds until all rows are there, peak RSS. */
async function sinkIntoDelta(i: number, table: string, rows: number, wh: Awaited<ReturnType<typeof connectWarehouse>>): Promise<{ seconds: number; rss: number; failure: string }> {
  const sink = startOurs({
    kafka: { brokers: env.kafkaBrokers, groupId: `${RUN}-${i}-sink`, topicPrefix: `${RUN}_${i}_0` }, registry: { url: env.registryUrl },
    warehouse: { host: env.warehouse.host, port: env.warehouse.port, path: env.warehouse.path, token: env.warehouse.token, caCertFile: env.warehouse.caFile, schema: `${RUN}_${i}` },
  }, NODE_ARGS, 'sink');
  let sinkSeconds = 0;
  let sinkRss = 0;
  let sinkFailure = '';
  try {
    const started = performance.now();
    let unanswered = 0;
    for (let merged = 0; merged < rows;) {
      if (sink.child.exitCode !== null || sink.child.signalCode !== null) throw new Error(`the sink exited (${sink.child.exitCode ?? sink.child.signalCode}):\n${sink.tail()}`);
      if (performance.now() - started > 600_000) throw new Error(`the sink merged ${merged} of ${rows} rows in 10 minutes:\n${sink.tail()}`);
      const [n] = await wh.query<{ n: number }>(`SELECT CAST(count(*) AS INT) AS n FROM ${RUN}_${i}.${table}`).then((r) => { unanswered = 0; return r; }, (err: Error) => {
        if (++unanswered > 60 && !/TABLE_OR_VIEW_NOT_FOUND|not found/i.test(err.message)) throw new Error(`the warehouse does not answer: ${err.message}`);
        return [{ n: 0 }];
      });
      merged = Number(n!.n);
      if (merged < rows) await sleep(500);
    }
    sinkSeconds = (performance.now() - started) / 1000;
    sinkRss = treePeakRssMb(sink.child.pid!);
  } catch (err) {
    // recorded, not fatal: the other sizes are still measured (e.g. the local engine running out of heap)
    sinkFailure = (err as Error).message.split('\n')[0]!;
    sinkRss = treePeakRssMb(sink.child.pid!);
    process.stdout.write(`  sink: ${(err as Error).message}\n`);
  } finally {
    await sink.stop();
  }
  return { seconds: sinkSeconds, rss: sinkRss, failure: sinkFailure };
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
