// Streaming PG → Kafka: our connector next to Debezium's PostgreSQL connector on Kafka Connect and next to the
// decode ceiling (pg_recvlogical to /dev/null), on one backlog per row kind, in one run. Each reader has its
// own pgoutput slot, created before the backlog is written; ours and Debezium write Avro (Confluent wire
// format) to the same Kafka and registry, 3 partitions each. Appends to docs/benchmarks.md.
// Run: make bench-debezium (the stack must be up; scripts/bench/debezium.sh installs Debezium on first use).
// Sizes: BENCH_SMALL_ROWS (200000), BENCH_SPAN_ROWS (50000). BENCH_DBZ_JSON=0 leaves out the second Debezium
// reading (Kafka's JsonConverter without schemas, no registry: Debezium without the Avro converter's cost).
// BENCH_DRY_RUN=1 prints the results instead of appending them.
import type { Admin } from '@platformatic/kafka';
import { SchemaRegistry, decodeWire } from '../schemas/src/registry.ts';
import {
  appendResults, cleanUp, createBenchTable, env, fillBenchTable, firstValue, load1, lsnNow, machine, recvlogicalSeconds,
  startOurs, today, treePeakRssMb, waitForTopicCount, type Kind,
} from './lib/harness.ts';
import { benchSession, debeziumConfig, runDebezium, versions } from './lib/debezium.ts';

const PREFIX = 'bench_dbz_';
const RUN = `${PREFIX}${Date.now().toString(36)}`;
const SIZES: [Kind, number][] = [['small', Number(process.env.BENCH_SMALL_ROWS ?? 200_000)], ['spans', Number(process.env.BENCH_SPAN_ROWS ?? 50_000)]];
const WITH_JSON = process.env.BENCH_DBZ_JSON !== '0';

interface Measured { seconds: number; secondHalf: number; rssMb: number; idleMb?: number }

async function ours(admin: Admin, kind: Kind, rows: number): Promise<Measured> {
  const run = startOurs({
    source: {
      url: env.pgUrl, tables: [`${RUN}.${kind}`], publication: { name: `${RUN}_${kind}`, autocreate: 'disabled' },
      slot: { name: `${RUN}_${kind}_ours` }, snapshot: { mode: 'no_data' },
    },
    kafka: { brokers: env.kafkaBrokers, topicPrefix: `${RUN}_ours`, partitions: 3, stateTopic: `${RUN}_ours-state` },
    registry: { url: env.registryUrl },
  });
  try {
    const started = await run.logged('streaming');
    const done = await waitForTopicCount(admin, `${RUN}_ours.${RUN}.${kind}`, rows, { alive: () => run.child.exitCode === null });
    return { seconds: (done.at - started) / 1000, secondHalf: (done.at - done.halfAt) / 1000, rssMb: treePeakRssMb(run.child.pid!) };
  } catch (err) {
    throw new Error(`${(err as Error).message}\nour connector's last log lines:\n${run.tail()}`);
  } finally {
    await run.stop();
  }
}

async function debezium(admin: Admin, kind: Kind, rows: number, format: 'avro' | 'json'): Promise<Measured> {
  const id = format === 'avro' ? 'dbz' : 'dbzjson';
  const r = await runDebezium(admin, {
    name: `${RUN}_${kind}_${id}`, topic: `${RUN}_${id}.${RUN}.${kind}`, rows, from: 'streaming',
    config: debeziumConfig({ table: `${RUN}.${kind}`, slot: `${RUN}_${kind}_${id}`, publication: `${RUN}_${kind}_dbz`, topicPrefix: `${RUN}_${id}`, snapshot: 'no_data', format }),
  });
  return { seconds: (r.done.at - r.startedAt) / 1000, secondHalf: (r.done.at - r.done.halfAt) / 1000, rssMb: r.rssMb, idleMb: r.idleMb };
}

/** Debezium's messages must be Avro in the Confluent wire format, readable through the registry's ccompat API. */
async function checkDebeziumAvro(kind: Kind): Promise<void> {
  const { value } = await decodeWire(new SchemaRegistry(env.registryUrl), await firstValue(`${RUN}_dbz.${RUN}.${kind}`));
  const after = (value as { after?: { id?: unknown } }).after;
  if (typeof after?.id !== 'bigint') throw new Error(`Debezium ${kind} message decoded without after.id: ${JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 300)}`);
}

async function main(): Promise<void> {
  const results: string[] = [];
  const notes: string[] = [];
  const startedAt = performance.now();
  await benchSession(PREFIX, RUN, async (db, admin) => {
    await db.query(`CREATE SCHEMA ${RUN}`);
    for (const [kind, rows] of SIZES) {
      const table = `${RUN}.${kind}`;
      await createBenchTable(db, table, kind);
      await db.query(`CREATE PUBLICATION ${RUN}_${kind} FOR TABLE ${table}`);      // pg_recvlogical and ours
      await db.query(`CREATE PUBLICATION ${RUN}_${kind}_dbz FOR TABLE ${table}`);  // Debezium's own
      for (const s of ['recv', 'ours', 'dbz', ...(WITH_JSON ? ['dbzjson'] : [])]) await db.query(`SELECT pg_create_logical_replication_slot('${RUN}_${kind}_${s}', 'pgoutput')`);
      process.stdout.write(`${kind}: writing ${rows} rows…\n`);
      const bytes = await fillBenchTable(db, table, kind, rows);
      const endLsn = await lsnNow(db);
      const load = [load1()];
      const c = recvlogicalSeconds(`${RUN}_${kind}_recv`, `${RUN}_${kind}`, endLsn);
      load.push(load1());
      const o = await ours(admin, kind, rows);
      load.push(load1());
      const d = await debezium(admin, kind, rows, 'avro');
      load.push(load1());
      await checkDebeziumAvro(kind);
      const j = WITH_JSON ? await debezium(admin, kind, rows, 'json') : undefined;
      if (j) load.push(load1());
      const evs = (s: number): string => `${Math.round(rows / s)} ev/s (${s.toFixed(2)} s)`;
      const line = `| ${kind} (~${bytes} B/row) | ${rows} | ${evs(c)} | ${evs(o.seconds)} | ${((c / o.seconds) * 100).toFixed(0)}% | ${evs(d.seconds)} | ${((c / d.seconds) * 100).toFixed(0)}% | ${(d.seconds / o.seconds).toFixed(2)}× | ${o.rssMb.toFixed(0)} MB | ${d.rssMb.toFixed(0)} MB (idle ${d.idleMb!.toFixed(0)} MB) | ${(o.rssMb / d.rssMb).toFixed(2)} |${j ? ` ${evs(j.seconds)}, ${j.rssMb.toFixed(0)} MB |` : ''}`;
      process.stdout.write(`${line}\n`);
      results.push(line);
      const half = (m: Measured): string => `${Math.round(rows / 2 / m.secondHalf)} ev/s`;
      notes.push(`${kind}: second half of the backlog alone (start-up and JIT warm-up left out): ours ${half(o)}, Debezium ${half(d)}${j ? `, Debezium JSON ${half(j)}` : ''}`);
      notes.push(`${kind}: 1-min load average before ceiling / ours / Debezium${j ? ' / Debezium JSON' : ''} / after: ${load.join(' / ')}`);
      await cleanUp(db, admin, `${RUN}_${kind}_`); // this kind's slots and Debezium's publication, before the next backlog
    }
  });
  const v = versions();
  appendResults([
    `## Streaming PG → Kafka: connector vs Debezium vs ceiling — ${today()}`, '',
    `Machine: ${machine()}; Postgres, Kafka, the registry and the measured process on the same cores.`,
    'Backlog written first (1000-row transactions), then read from three pgoutput slots created before it: `pg_recvlogical`',
    'to /dev/null (decode ceiling), our connector (decode, Avro, @platformatic/kafka acks=all idempotent, slot confirmation), and',
    `Debezium ${v.debezium} on one Kafka Connect ${v.kafka} distributed worker (Avro through Apicurio's converter`,
    `${v.converter} in the Confluent wire format, checked by decoding a message through the ccompat API; Connect's`,
    'producer defaults acks=all, one request in flight; Debezium\'s defaults max.batch.size 2048, max.queue.size 8192).',
    `Worker JVM: Kafka's default Connect flags, ${v.heap}, G1; a fresh worker per row kind. Time runs from the`,
    'connector\'s start-of-streaming log line (ours `streaming`, Debezium `Processing messages`) until the topic\'s end',
    'offsets sum to the row count (polled every 50 ms). Peak RSS is VmHWM summed over the process tree.',
    ...(WITH_JSON ? ['Last column: Debezium again on its own slot with Kafka\'s JsonConverter (schemas.enable=false, no registry), a reference', 'for what the Avro converter costs; not a like-for-like output.'] : []),
    '', `| rows | count | pg_recvlogical (ceiling) | ours | of ceiling | Debezium (Avro) | of ceiling | ours ÷ Debezium | ours peak RSS | Debezium peak RSS | RSS ours ÷ Debezium |${WITH_JSON ? ' Debezium JSON, peak RSS |' : ''}`,
    `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |${WITH_JSON ? ' --- |' : ''}`,
    ...results, '', ...notes.map((n) => `${n}  `), `Whole run: ${((performance.now() - startedAt) / 1000).toFixed(0)} s.`,
  ]);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
