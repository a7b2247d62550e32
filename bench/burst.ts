// Burst: one transaction of 1M rows, written while the connector streams, then read by the sink into Delta.
// Measures the peak RSS (VmHWM) of the connector and of the sink (issue 8's goal: ≤ 300 MB each) and how long
// each took. Run: make bench-burst [ROWS=n] (the stack must be up). Rows: --rows N or BENCH_BURST_ROWS
// (default 1000000). BENCH_DRY_RUN=1 prints the results instead of appending them to docs/benchmarks.md.
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  appendResults, benchSinkBatching, cleanUp, createBenchTable, env, kafkaAdmin, load1, machine, MALLOC_MMAP_THRESHOLD, sleep, startOurs, today, treePeakRssMb, waitForTopicCount,
} from './lib/harness.ts';
import { connectWarehouse } from '../sink/src/warehouse/databricks-client.ts';
import { parseConnectorConfig } from '../connector/src/config.ts';
import { parseSinkConfig } from '../sink/src/config.ts';

const PREFIX = 'bench_burst_';
const RUN = `${PREFIX}${Date.now().toString(36)}`;
const { values: args } = parseArgs({ options: { rows: { type: 'string' } } });
const ROWS = Number(args.rows ?? process.env.BENCH_BURST_ROWS ?? 1_000_000);
if (!Number.isInteger(ROWS) || ROWS <= 0) throw new Error(`--rows must be a positive integer, not ${args.rows ?? process.env.BENCH_BURST_ROWS}`);
const TABLE = `${RUN}.small`;
/** node flags of both services: by default the V8 heap bounds bin/tracelake and the image set (NODE_OPTIONS) */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '--max-semi-space-size=8 --max-old-space-size=256').split(' ').filter(Boolean);
const WITH_SINK = process.env.BENCH_BURST_SINK !== '0';

async function main(): Promise<void> {
  const startedAt = performance.now();
  const db = new pg.Client({ connectionString: env.pgUrl });
  await db.connect();
  const admin = kafkaAdmin();
  const wh = await connectWarehouse({ ...env.warehouse, auth: { token: env.warehouse.token } });
  const connectorConfig = {
    source: { url: env.pgUrl, tables: [TABLE], publication: { name: RUN }, slot: { name: RUN }, snapshot: { mode: 'no_data' } },
    kafka: { brokers: env.kafkaBrokers, topicPrefix: RUN, partitions: 3, stateTopic: `${RUN}-state` },
    registry: { url: env.registryUrl },
  };
  const sinkConfig = {
    kafka: { brokers: env.kafkaBrokers, groupId: `${RUN}-sink`, topicPrefix: RUN }, registry: { url: env.registryUrl },
    warehouse: { host: env.warehouse.host, port: env.warehouse.port, path: env.warehouse.path, token: env.warehouse.token, caCertFile: env.warehouse.caFile, schema: RUN },
    batching: benchSinkBatching(),
  };
  const topic = `${RUN}.${TABLE}`;
  const lines: string[] = [];
  const load: string[] = [load1()];
  let connectorRun: ReturnType<typeof startOurs> | undefined;
  let sinkRun: ReturnType<typeof startOurs> | undefined;
  try {
    await db.query(`CREATE SCHEMA ${RUN}`);
    await createBenchTable(db, TABLE, 'small');
    // connector: streaming when the transaction commits
    connectorRun = startOurs(connectorConfig, NODE_ARGS);
    await connectorRun.logged('streaming');
    process.stdout.write(`writing one transaction of ${ROWS} rows…\n`);
    const writeStart = performance.now();
    await db.query(`INSERT INTO ${TABLE} SELECT g, g % 1000, md5(g::text) || md5((g+1)::text) || md5((g+2)::text) || md5((g+3)::text), now() FROM generate_series(1, ${ROWS}) g`);
    const committed = performance.now();
    const { rows: [wal] } = await db.query<{ b: string }>(`SELECT pg_size_pretty(pg_total_relation_size('${TABLE}')) AS b`);
    const c = connectorRun;
    const inKafka = await waitForTopicCount(admin, topic, ROWS, { timeoutMs: 300_000, alive: () => c.child.exitCode === null });
    const connectorRss = treePeakRssMb(c.child.pid!);
    const connectorSeconds = (inKafka.at - committed) / 1000;
    load.push(load1());
    process.stdout.write(`connector: ${ROWS} events in Kafka ${connectorSeconds.toFixed(1)} s after the commit, peak RSS ${connectorRss.toFixed(0)} MB\n`);

    // sink: reads the topic from the start into Delta
    if (!WITH_SINK) return;
    sinkRun = startOurs(sinkConfig, NODE_ARGS, 'sink');
    const sinkStart = performance.now();
    let merged = 0;
    let lastProgress = performance.now();
    for (;;) {
      await sleep(2000);
      const [r] = await wh.query<{ n: number }>(`SELECT CAST(count(*) AS INT) AS n FROM ${RUN}.small`).catch(() => [{ n: 0 }]);
      if (r!.n !== merged) [merged, lastProgress] = [r!.n, performance.now()];
      if (merged >= ROWS) break;
      if (sinkRun.child.exitCode !== null) throw new Error(`the sink exited with ${sinkRun.child.exitCode}:\n${sinkRun.tail()}`);
      if (performance.now() - lastProgress > 300_000) throw new Error(`the sink made no progress for 300 s at ${merged} of ${ROWS} rows:\n${sinkRun.tail()}`);
    }
    const sinkSeconds = (performance.now() - sinkStart) / 1000;
    const sinkRss = treePeakRssMb(sinkRun.child.pid!);
    load.push(load1());
    process.stdout.write(`sink: ${ROWS} rows in Delta ${sinkSeconds.toFixed(1)} s after its start, peak RSS ${sinkRss.toFixed(0)} MB\n`);
    const conn = parseConnectorConfig(connectorConfig);
    const sink = parseSinkConfig(sinkConfig);
    lines.push(
      `## Burst: one ${ROWS}-row transaction — ${today()}`, '',
      `Machine: ${machine()}; Postgres, Kafka, the registry, Spark and the measured process on the same cores.`,
      `One \`INSERT … SELECT generate_series\` of ${ROWS} ~176 B rows (table ${wal!.b}) committed while the connector streams`,
      `(${((committed - writeStart) / 1000).toFixed(1)} s to write). The connector on its defaults (produce batches ≤ ${conn.batching.maxBytes} bytes, ≤ ${conn.batching.maxMessages} messages,`,
      'four in flight); then the sink, started after the connector finished, on its defaults (batches of ≤ ' + `${sink.batching.maxRows} events, MERGE statements of ≤ ${sink.batching.maxStatementRows} rows,`,
      `one lane per table, what merges and what is collected each within the batch bounds). Peak RSS is VmHWM of the process. Node flags: ${NODE_ARGS.join(' ') || 'none (V8 defaults)'}; MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD}.`, '',
      '| stage | time | rate | peak RSS | goal |', '| --- | --- | --- | --- | --- |',
      `| connector: commit → all events in Kafka | ${connectorSeconds.toFixed(1)} s | ${Math.round(ROWS / connectorSeconds)} ev/s | ${connectorRss.toFixed(0)} MB | ≤ 300 MB: ${connectorRss <= 300 ? 'met' : '**not met**'} |`,
      `| sink: start → all rows in Delta | ${sinkSeconds.toFixed(1)} s | ${Math.round(ROWS / sinkSeconds)} rows/s | ${sinkRss.toFixed(0)} MB | ≤ 300 MB: ${sinkRss <= 300 ? 'met' : '**not met**'} |`,
      '', `1-min load average before / after the connector / after the sink: ${load.join(' / ')}. Whole run: ${((performance.now() - startedAt) / 1000).toFixed(0)} s.`,
    );
  } finally {
    await sinkRun?.stop();
    await connectorRun?.stop();
    await wh.query(`DROP SCHEMA IF EXISTS ${RUN} CASCADE`).catch(() => undefined);
    await wh.close();
    await cleanUp(db, admin, RUN).catch((err: unknown) => process.stderr.write(`clean-up: ${(err as Error).message}\n`));
    await admin.close();
    await db.end();
  }
  appendResults(lines);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
