// The fault-injection run over the whole pipeline on the real stack: a mixed write load on Phoenix- and
// Langfuse-shaped tables in Postgres and on Langfuse v4's events_full in ClickHouse while, at seeded random
// moments, the connector and the sink are killed -9 (also exactly between Kafka ack and slot ack, in the middle
// of a ClickHouse poll, and between MERGE and offset commit), Kafka, Postgres and ClickHouse restart, the
// warehouse goes away, and a second sink joins and leaves the group. Then every mirrored table is compared
// with Postgres by primary key and full row, and events_full with FINAL: 0 missing, 0 extra, 0 different is
// the only pass.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { spawnService, type ServiceProcess } from '../support/service-process.ts';
import { connectTestWarehouse } from '../support/warehouse.ts';
import { sinkConfig } from '../support/sink.ts';
import { compareTable } from '../support/compare.ts';
import { stack, uniqueName } from '../support/stack.ts';
import { createTables, seededRng, TABLES, Workload, type Rng } from './workload.ts';
import { ClickHouseWorkload, compareWithFinal } from './clickhouse-workload.ts';
import { clickhouseFixture, type ClickHouseFixture } from '../support/clickhouse.ts';
import { sleep } from '../support/wait.ts';

export interface ChaosOptions {
  seed: number;
  /** faults to inject */
  faults: number;
  /** pause between faults, ms */
  gapMs: [number, number];
  seedRows: number;
  /** how long the comparison waits for the sink when it makes no progress (default 3 min) */
  stallMs?: number;
  log?: (line: string) => void;
}

export interface ChaosSummary {
  seed: number;
  faults: Record<string, number>;
  transactions: number;
  rowsCompared: number;
  mismatches: string[];
  slotLagBytes: number;
  /** the connector's last log lines when the slot did not catch up */
  slotDiagnostics: string[];
  leakedProcesses: number;
  /** services that exited without being killed: a crash the supervisor (like Kubernetes) papered over */
  unexpectedExits: string[];
  seconds: number;
}

const script = (name: string) => fileURLToPath(new URL(`../../scripts/stack/${name}.sh`, import.meta.url));

/**
 * Error codes a start may fail with while a dependency is away: the checks before the start say KAFKA_UNREACHABLE,
 * a Kafka that goes away after them (a restart a moment later) fails the start's first requests as KAFKA_UNAVAILABLE.
 */
const SAME_OUTAGE: Record<string, string[]> = { KAFKA_UNREACHABLE: ['KAFKA_UNREACHABLE', 'KAFKA_UNAVAILABLE'] };

/**
 * When the harness itself had a dependency down: a service that starts inside such an outage fails its start
 * naming the dependency (by design: at start an unreachable dependency is a failure, exit 1, and the
 * orchestrator starts it again; once running, a service rides an outage out). Such exits are expected.
 */
class Outages {
  private readonly windows: { code: string; from: number; to: number }[] = [];
  private readonly open = new Map<string, number>();
  begin(code: string): void { this.open.set(code, Date.now()); }
  end(code: string): void {
    // a start attempted just before the dependency answered again may still fail: a few seconds of grace
    this.windows.push({ code, from: this.open.get(code) ?? Date.now(), to: Date.now() + 5000 });
    this.open.delete(code);
  }
  /** the code of the outage that explains a failed start at `at` with `errorLines`, if any */
  explains(at: number, errorLines: string): string | undefined {
    const current = [...this.open.keys(), ...this.windows.filter((w) => at >= w.from && at <= w.to).map((w) => w.code)];
    return current.find((code) => (SAME_OUTAGE[code] ?? [code]).some((c) => errorLines.includes(`"code":"${c}"`)));
  }
}

/** The first lines of a failed stop, on one line for the summary. */
const firstLines = (err: Error) => err.message.split('\n').slice(0, 6).join(' | ').slice(0, 600);

/** A service kept running like a Deployment keeps its pod: whenever it exits, a new one starts. */
class Supervised {
  readonly kind: 'connector' | 'sink';
  private readonly config: object;
  private keep = true;
  private nextEnv: Record<string, string> = {};
  readonly spawned: ServiceProcess[] = [];
  /** exits nobody asked for (not a kill, a stop or a fault point): each with the process's last errors */
  readonly unexpected: string[] = [];
  /** failed starts inside an outage the harness made (see Outages), by the dependency's error code */
  readonly startsDuringOutage: Record<string, number> = {};
  private killing = false;
  private readonly outages: Outages;
  current!: ServiceProcess;

  constructor(kind: 'connector' | 'sink', config: object, outages: Outages) {
    this.kind = kind;
    this.config = config;
    this.outages = outages;
    this.spawn();
  }

  private spawn(): void {
    const env = this.nextEnv;
    this.nextEnv = {};
    const p = spawnService(this.kind, { ...this.config, failurePolicy: 'exit' }, { TRACELAKE_LOG_LEVEL: 'info', ...env });
    this.spawned.push(p);
    this.current = p;
    void p.exited.then(async ({ code, signal }) => {
      const faultPoint = signal === 'SIGKILL' && !!env.TRACELAKE_FAULTS;
      if (this.keep && !this.killing && !faultPoint) {
        const errorLines = p.output().split('\n').filter((l) => /"level":(50|60)/.test(l)).slice(-2);
        const outage = code === 1 ? this.outages.explains(Date.now(), errorLines.join('\n')) : undefined;
        if (outage) this.startsDuringOutage[outage] = (this.startsDuringOutage[outage] ?? 0) + 1;
        else this.unexpected.push(`${this.kind} exited (code ${code}, signal ${signal}): ${errorLines.map((l) => l.slice(0, 300)).join(' | ') || p.output().slice(-300)}`);
      }
      this.killing = false;
      if (!this.keep) return;
      await sleep(300);
      if (this.keep) this.spawn();
    });
  }

  /** kill -9 now; the replacement may carry a fault point (it then kills itself there). */
  async kill(nextEnv: Record<string, string> = {}): Promise<void> {
    this.nextEnv = nextEnv;
    this.killing = true;
    this.current.child.kill('SIGKILL');
    await this.current.exited;
  }

  /** A graceful stop; one that hangs is killed and counted like a crash. */
  async stop(): Promise<void> {
    this.keep = false;
    await this.current.stop().catch((err: Error) => { this.unexpected.push(firstLines(err)); });
  }

  restarts(): number {
    return this.spawned.length - 1;
  }
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosSummary> {
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  // two streams from the seed: the fault sequence replays exactly; the load's choices do too, though its
  // timing against the faults depends on the machine
  const rng: Rng = seededRng(opts.seed);
  const loadRng: Rng = seededRng(opts.seed ^ 0x9e3779b9);
  const name = uniqueName('chaos').toLowerCase();
  const db = new pg.Pool({ connectionString: stack().pgUrl, max: 4 });
  db.on('error', () => undefined); // a Postgres restart ends idle pooled connections
  const wh = await connectTestWarehouse();
  const faults: Record<string, number> = {};
  const count = (f: string) => (faults[f] = (faults[f] ?? 0) + 1);
  const services: Supervised[] = [];
  const outages = new Outages();
  /** stops that did not end within the grace (the extra sink of a rebalance) */
  const hungStops: string[] = [];
  let workload: Workload | undefined;
  let chLoad: ClickHouseWorkload | undefined;
  let ch: ClickHouseFixture | undefined;
  let extraSink: ServiceProcess | undefined;
  // a stalled run says where it stalls: every 2 minutes in one phase, the phase and each service's last lines
  let phase = 'setup';
  let phaseSince = Date.now();
  const enter = (p: string) => { [phase, phaseSince] = [p, Date.now()]; log(`  [${new Date().toISOString()}] ${p}`); };
  const watchdog = setInterval(() => {
    const minutes = Math.round((Date.now() - phaseSince) / 60_000);
    if (minutes < 2) return;
    log(`  [${new Date().toISOString()}] still in "${phase}" after ${minutes} min; the services' last lines:`);
    for (const s of services) for (const l of s.current.output().split('\n').filter(Boolean).slice(-4)) log(`    ${s.kind}: ${l.slice(0, 300)}`);
  }, 60_000);
  watchdog.unref();
  try {
    await db.query(`CREATE SCHEMA ${name}`);
    workload = new Workload(db, name, loadRng);
    await createTables(db, name);
    await workload.seed(opts.seedRows);
    ch = await clickhouseFixture('chaos', 'v4', name);
    chLoad = new ClickHouseWorkload(ch, loadRng);
    const connectorCfg = {
      source: { url: stack().pgUrl, tables: TABLES.map((t) => `${name}.${t}`), publication: { name }, slot: { name }, heartbeatIntervalMs: 1000, statusIntervalMs: 1000 },
      kafka: { brokers: stack().kafkaBrokers, topicPrefix: name, partitions: 2, stateTopic: `${name}.state` },
      registry: { url: stack().registryUrl },
      batching: { lingerMs: 10 },
      clickhouse: ch.source({ tables: ['events_full'] }),
    };
    const sinkCfg = sinkConfig(name, { tables: { [`${name}.spans`]: { clusterBy: ['start_time'] } } });
    const connector = new Supervised('connector', connectorCfg, outages);
    const sink = new Supervised('sink', sinkCfg, outages);
    services.push(connector, sink);
    workload.start();
    chLoad.start();
    log(`chaos seed=${opts.seed} schema=${name}: ${opts.faults} faults`);
    /** A stack service down for `downMs`, as an outage the services' failed starts may name (`code`). */
    const restart = async (service: string, code: string, downMs: number) => {
      outages.begin(code);
      execFileSync(script(service), ['down'], { stdio: 'ignore' });
      await sleep(downMs);
      execFileSync(script(service), ['up'], { stdio: 'ignore' });
      outages.end(code);
    };

    const kinds = ['kill-connector', 'kill-connector-after-kafka-ack', 'kill-sink', 'kill-sink-after-merge', 'restart-kafka', 'restart-postgres', 'warehouse-outage', 'rebalance',
      'kill-connector-mid-clickhouse-poll', 'restart-clickhouse'] as const;
    for (let i = 0; i < opts.faults; i++) {
      await sleep(opts.gapMs[0] + rng() * (opts.gapMs[1] - opts.gapMs[0]));
      if (i === Math.floor(opts.faults / 2)) {
        await workload.changeSchema().catch(() => undefined);
        log('  schema change: spans.session_id added');
      }
      const kind = kinds[Math.floor(rng() * kinds.length)]!;
      count(kind);
      enter(`fault ${i + 1}/${opts.faults}: ${kind}`);
      switch (kind) {
        case 'kill-connector': await connector.kill(); break;
        case 'kill-connector-after-kafka-ack': await connector.kill({ TRACELAKE_FAULTS: `after-kafka-ack:${1 + Math.floor(rng() * 5)}` }); break;
        case 'kill-sink': await sink.kill(); break;
        case 'kill-sink-after-merge': await sink.kill({ TRACELAKE_FAULTS: `after-merge:${1 + Math.floor(rng() * 3)}` }); break;
        case 'restart-kafka': await restart('kafka', 'KAFKA_UNREACHABLE', 2000 + rng() * 4000); break;
        case 'restart-postgres': await restart('postgres', 'PG_UNREACHABLE', 1000 + rng() * 3000); break;
        case 'kill-connector-mid-clickhouse-poll': await connector.kill({ TRACELAKE_FAULTS: `clickhouse-part-read:${1 + Math.floor(rng() * 5)}` }); break;
        case 'restart-clickhouse': await restart('clickhouse', 'CLICKHOUSE_UNREACHABLE', 1000 + rng() * 3000); break;
        case 'warehouse-outage': await restart('warehouse', 'WAREHOUSE_UNREACHABLE', 5000 + rng() * 10_000); break; // longer than the sink's first retries
        case 'rebalance': // a second sink joins the group mid-batch, then leaves
          extraSink = spawnService('sink', { ...sinkCfg, failurePolicy: 'exit' }, { TRACELAKE_LOG_LEVEL: 'info' });
          await sleep(5000 + rng() * 10_000);
          if (rng() < 0.5) extraSink.child.kill('SIGKILL');
          await extraSink.stop().catch((err: Error) => { hungStops.push(`extra sink: ${firstLines(err)}`); });
          extraSink = undefined;
          break;
      }
    }
    enter('stopping the load');
    await workload.stop();
    await chLoad.stop();
    log(`  load stopped: ${workload.transactions} transactions (${workload.failed} refused while Postgres was down), ${chLoad.inserts} ClickHouse writes (${chLoad.failed} refused while it was down)`);

    // convergence: every table equal, the slot caught up
    const { rows: [end] } = await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    let mismatches: string[] = [];
    let rowsCompared = 0;
    // the sink may still be catching up (large transactions under faults): wait while it makes progress
    let lastPosition = '';
    enter('comparing Delta with Postgres');
    for (let lastProgress = Date.now(), hardStop = Date.now() + 30 * 60_000; ;) {
      mismatches = [];
      rowsCompared = 0;
      for (const t of TABLES) {
        const r = await compareTable(db as unknown as pg.Client, name, t, wh, `${name}.${t}`).catch((err: Error) => ({ rows: 0, mismatches: [`${t}: ${err.message}`] }));
        rowsCompared += r.rows;
        mismatches.push(...r.mismatches.map((m) => `${t}: ${m}`));
      }
      const final = await compareWithFinal(ch, wh, name).catch((err: Error) => ({ rows: 0, mismatches: [`events_full: ${err.message}`] }));
      rowsCompared += final.rows;
      mismatches.push(...final.mismatches);
      // progress: the sink moved some table forward (its newest source position in Delta changed)
      const position = (await Promise.all([...TABLES, 'events_full'].map((t) => wh.query<{ m: string | null }>(`SELECT CAST(max(_commit_lsn) AS STRING) AS m FROM ${name}.${t}`)
        .then((r) => r[0]?.m ?? '', () => '')))).join('/');
      if (position !== lastPosition) [lastPosition, lastProgress] = [position, Date.now()];
      if (mismatches.length === 0 || Date.now() - lastProgress > (opts.stallMs ?? 180_000) || Date.now() > hardStop) break;
      await sleep(3000);
    }
    let slotLagBytes = -1;
    enter('waiting for the slot');
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(1000)) {
      const { rows: [s] } = await db.query<{ lag: string }>(
        'SELECT pg_wal_lsn_diff($2::pg_lsn, confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $1', [name, end!.lsn]);
      slotLagBytes = Math.max(0, Number(s?.lag ?? -1));
      if (slotLagBytes === 0) break;
    }
    const slotDiagnostics = slotLagBytes === 0 ? [] : (connector.spawned.at(-1)?.output() ?? '').split('\n').filter(Boolean).slice(-12).map((l) => l.slice(0, 300));
    for (const s of services) await s.stop();
    const leakedProcesses = services.flatMap((s) => s.spawned).filter((p) => p.child.exitCode === null && p.child.signalCode === null).length;
    faults['connector restarts'] = connector.restarts();
    faults['sink restarts'] = sink.restarts();
    for (const s of services) {
      for (const [code, n] of Object.entries(s.startsDuringOutage)) faults[`${s.kind} starts failed with ${code} during that outage`] = n;
    }
    return { seed: opts.seed, faults, transactions: workload.transactions, rowsCompared, mismatches, slotLagBytes, slotDiagnostics, leakedProcesses,
      unexpectedExits: [...services.flatMap((x) => x.unexpected), ...hungStops], seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    clearInterval(watchdog);
    await workload?.stop(); // a run cut short by an error must not leave the load running (and the process alive)
    await chLoad?.stop();
    for (const s of services) await s.stop().catch(() => undefined);
    await extraSink?.stop().catch(() => undefined);
    for (const svc of ['postgres', 'kafka', 'warehouse', 'clickhouse']) execFileSync(script(svc), ['up'], { stdio: 'ignore' });
    await ch?.cleanup();
    await db.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, [name]).catch(() => undefined);
    await sleep(300);
    await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [name]).catch(() => undefined);
    await db.query(`DROP PUBLICATION IF EXISTS ${name}`).catch(() => undefined);
    await db.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`).catch(() => undefined);
    await wh.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`).catch(() => undefined);
    await wh.close().catch(() => undefined);
    await db.end();
  }
}

export function formatSummary(s: ChaosSummary): string {
  return [
    `chaos summary (seed ${s.seed}, ${s.seconds} s): ${passed(s) ? 'PASS' : 'FAIL'}`,
    `  faults: ${Object.entries(s.faults).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  transactions ${s.transactions}, rows compared ${s.rowsCompared}, mismatches ${s.mismatches.length}, slot lag ${s.slotLagBytes} bytes, leaked processes ${s.leakedProcesses}, unexpected exits ${s.unexpectedExits.length}`,
    ...s.unexpectedExits.map((e) => `  ${e}`),
    ...(s.slotDiagnostics.length > 0 ? ['  the connector\'s last log lines:', ...s.slotDiagnostics.map((l) => `    ${l}`)] : []),
    ...s.mismatches.slice(0, 10).map((m) => `  ${m}`),
    passed(s) ? '' : `  replay: make chaos SEED=${s.seed}`,
  ].filter(Boolean).join('\n');
}

/** Nothing lost or invented, the slot caught up, no process leaked, and no service crashed on its own. */
export function passed(s: ChaosSummary): boolean {
  return s.mismatches.length === 0 && s.slotLagBytes === 0 && s.leakedProcesses === 0 && s.unexpectedExits.length === 0;
}
