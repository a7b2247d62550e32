// The connector: runs its sources (sources/source.ts) like Kafka Connect tasks — each run after run while its
// store comes and goes (a restart, a failover), until stopped or a non-retriable error of any (state FAILED,
// with the reason; the others are stopped). Sources: the Postgres database (source.url), a ClickHouse database
// (Langfuse v3/v4 keep their traces there) and a bucket of exported files, each when configured. Pausing closes a gate every source waits at.
//
// A source's module is loaded only when the source is configured: the ClickHouse client and the S3 SDK are
// large, and a Postgres-only connector that loaded them kept ~15 MB more V8 heap for every major GC to mark
// (docs/benchmarks.md, 2026-12-04, "Connector heap").
import type { Logger } from 'pino';
import type { ConnectorConfig } from './config.ts';
import type { ConnectorMetrics } from './metrics.ts';
import type { ChangeSource, SnapshotProgress, SourceStatus } from '../../sources/source.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { Gate } from '../../runtime/gate.ts';
import { Backoff } from '../../runtime/retry.ts';
import { ConflictError, type TableStatus, type Worker } from '../../runtime/supervisor.ts';

export type ConnectorStatus = SourceStatus | 'STOPPED' | 'FAILED';

export class Connector implements Worker {
  private readonly log: Logger;
  private readonly metrics: ConnectorMetrics | undefined;
  private readonly gate = new Gate();
  /** the configured sources, once their modules are loaded (the config names at least one) */
  private sources: ChangeSource[] = [];
  private readonly opened: Promise<void>;
  private stopping = false;
  private ended: 'STOPPED' | 'FAILED' | undefined;
  failure: Error | undefined;

  constructor(cfg: ConnectorConfig, log: Logger, metrics?: ConnectorMetrics) {
    this.log = log;
    this.metrics = metrics;
    this.opened = openSources(cfg, log, this.gate, metrics).then((sources) => { this.sources = sources; });
    this.opened.catch(() => undefined); // run() reports it
  }

  /** The least advanced source's status. */
  get status(): ConnectorStatus {
    if (this.ended) return this.ended;
    if (this.sources.length === 0) return 'STARTING';
    const all = this.sources.map((s) => s.status);
    return (['STARTING', 'STANDBY', 'SNAPSHOTTING'] as const).find((st) => all.includes(st)) ?? 'RUNNING';
  }

  pause(): void {
    this.gate.close();
  }

  resume(): void {
    this.gate.open();
  }

  phase(): string {
    return this.status === 'RUNNING' ? 'STREAMING' : this.status;
  }

  tables(): TableStatus[] {
    const status = this.status;
    return this.sources.flatMap((s) => s.tables()).map(({ name, events, snapshot, ...detail }) => {
      const state = status === 'FAILED' ? 'FAILED' : this.gate.closed ? 'PAUSED' : snapshot?.state === 'RUNNING' ? 'SNAPSHOTTING' : status;
      return { table: name, state, events, ...(snapshot ? { snapshot } : {}), ...detail };
    });
  }

  requestSnapshot(table: string): SnapshotProgress {
    const source = this.sources.find((s) => s.tables().some((t) => t.name === table)) ?? this.sources[0];
    if (!source) throw new ConflictError('the connector is starting', 'ask again once its status is RUNNING');
    if (!source.requestSnapshot) throw new ConflictError(`this source cannot snapshot ${table} on request`, 'reset the offsets to snapshot everything again');
    return source.requestSnapshot(table);
  }

  /**
   * Runs every source until stop() (resolves) or until one fails for good (rejects; status FAILED; the others
   * are stopped: what they read is sent and acknowledged).
   */
  async run(): Promise<void> {
    let failure: unknown;
    await this.opened.catch((err: unknown) => { failure = err; });
    await Promise.all(this.sources.map(async (source) => {
      try {
        await this.runSource(source);
      } catch (err) {
        if (this.stopping) return; // stopped from outside, or after another source failed
        failure ??= err;
        this.stopping = true;
        this.gate.open();
        await Promise.all(this.sources.filter((s) => s !== source).map((s) => s.stop().catch(() => undefined)));
      }
    }));
    if (failure === undefined) {
      this.ended = 'STOPPED';
      return;
    }
    this.ended = 'FAILED';
    this.failure = failure as Error;
    const e = failure as Partial<TracelakeError>;
    this.metrics?.errors.inc({ code: e.code ?? 'UNEXPECTED' });
    this.log.error({ err: failure, code: e.code, remedy: e.remedy }, 'connector failed');
    throw failure;
  }

  /**
   * Runs one source until it is stopped (resolves) or fails for good (rejects). Losing its store after it once
   * answered (during the snapshot or start-up as much as while streaming) is not a failure: everything is
   * closed and a new run starts once it is back, from the acknowledged position (a snapshot cut short is
   * taken again).
   */
  private async runSource(source: ChangeSource): Promise<void> {
    const backoff = new Backoff({ baseDelayMs: 1000, maxDelayMs: 30_000, resetAfterMs: 60_000 });
    try {
      for (;;) {
        backoff.begin();
        try {
          await source.run();
          break;
        } catch (err) {
          const loss = this.stopping ? null : await source.lost(err);
          if (!loss) throw err;
          const delay = backoff.next();
          this.metrics?.errors.inc({ code: loss });
          this.log.warn({ err: (err as Error).message, code: loss, during: source.status, retryInMs: delay }, 'lost the source; starting over once it is back (nothing past its acknowledged position was acknowledged)');
          await source.close();
          await backoff.wait(delay, () => this.stopping);
          if (this.stopping) break;
        }
      }
    } finally {
      await source.close();
    }
  }

  /** Graceful: what was read is sent to Kafka and acknowledged to the source, then run() resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.gate.open();
    await this.opened.catch(() => undefined);
    await Promise.all(this.sources.map((s) => s.stop()));
  }
}

/** The configured sources, each source's module loaded only when it is configured. */
async function openSources(cfg: ConnectorConfig, log: Logger, gate: Gate, metrics: ConnectorMetrics | undefined): Promise<ChangeSource[]> {
  const sources: ChangeSource[] = [];
  if (cfg.source.url) {
    const { PostgresSource } = await import('../../sources/postgres/postgres-source.ts');
    sources.push(new PostgresSource(cfg, log, gate, metrics));
  }
  if (cfg.clickhouse) {
    const { ClickHouseSource } = await import('../../sources/clickhouse/clickhouse-source.ts');
    sources.push(new ClickHouseSource({ ...cfg, clickhouse: cfg.clickhouse }, log, gate, metrics));
  }
  if (cfg.objectStorage) {
    const { ObjectStorageSource } = await import('../../sources/object-storage/export-source.ts');
    sources.push(new ObjectStorageSource({ ...cfg, objectStorage: cfg.objectStorage }, log, gate, metrics));
  }
  return sources;
}
