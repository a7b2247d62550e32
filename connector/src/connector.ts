// The connector: runs its sources (sources/source.ts) like Kafka Connect tasks — each run after run while its
// store comes and goes (a restart, a failover), until stopped or a non-retriable error of any (state FAILED,
// with the reason; the others are stopped). Sources: the Postgres database (source.url), a ClickHouse database
// (Langfuse v3/v4 keep their traces there) and a bucket of exported files, each when configured. Pausing closes a gate every source waits at.
import type { Logger } from 'pino';
import type { ConnectorConfig } from './config.ts';
import type { ConnectorMetrics } from './metrics.ts';
import { PostgresSource } from '../../sources/postgres/postgres-source.ts';
import { ClickHouseSource } from '../../sources/clickhouse/clickhouse-source.ts';
import { ObjectStorageSource } from '../../sources/object-storage/export-source.ts';
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
  private readonly sources: ChangeSource[];
  private stopping = false;
  private ended: 'STOPPED' | 'FAILED' | undefined;
  failure: Error | undefined;

  constructor(cfg: ConnectorConfig, log: Logger, metrics?: ConnectorMetrics) {
    this.log = log;
    this.metrics = metrics;
    this.sources = [];
    if (cfg.source.url) this.sources.push(new PostgresSource(cfg, log, this.gate, metrics));
    if (cfg.clickhouse) this.sources.push(new ClickHouseSource({ ...cfg, clickhouse: cfg.clickhouse }, log, this.gate, metrics));
    if (cfg.objectStorage) this.sources.push(new ObjectStorageSource({ ...cfg, objectStorage: cfg.objectStorage }, log, this.gate, metrics));
  }

  /** The least advanced source's status. */
  get status(): ConnectorStatus {
    if (this.ended) return this.ended;
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
    const source = this.sources.find((s) => s.tables().some((t) => t.name === table)) ?? this.sources[0]!;
    if (!source.requestSnapshot) throw new ConflictError(`this source cannot snapshot ${table} on request`, 'reset the offsets to snapshot everything again');
    return source.requestSnapshot(table);
  }

  /**
   * Runs every source until stop() (resolves) or until one fails for good (rejects; status FAILED; the others
   * are stopped: what they read is sent and acknowledged).
   */
  async run(): Promise<void> {
    let failure: unknown;
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
    await Promise.all(this.sources.map((s) => s.stop()));
  }
}
