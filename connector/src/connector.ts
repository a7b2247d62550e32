// The connector: runs its source (sources/source.ts) like a Kafka Connect task — run after run while the
// source's store comes and goes (a restart, a failover), until stopped or a non-retriable error (state FAILED,
// with the reason). Pausing closes a gate the source waits at.
import type { Logger } from 'pino';
import type { ConnectorConfig } from './config.ts';
import type { ConnectorMetrics } from './metrics.ts';
import { PostgresSource } from '../../sources/postgres/postgres-source.ts';
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
  private readonly source: ChangeSource;
  private stopping = false;
  private ended: 'STOPPED' | 'FAILED' | undefined;
  failure: Error | undefined;

  constructor(cfg: ConnectorConfig, log: Logger, metrics?: ConnectorMetrics) {
    this.log = log;
    this.metrics = metrics;
    this.source = new PostgresSource(cfg, log, this.gate, metrics);
  }

  get status(): ConnectorStatus {
    return this.ended ?? this.source.status;
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
    return this.source.tables().map(({ name, events, snapshot }) => {
      const state = status === 'FAILED' ? 'FAILED' : this.gate.closed ? 'PAUSED' : snapshot?.state === 'RUNNING' ? 'SNAPSHOTTING' : status;
      return { table: name, state, events, ...(snapshot ? { snapshot } : {}) };
    });
  }

  requestSnapshot(table: string): SnapshotProgress {
    if (!this.source.requestSnapshot) throw new ConflictError(`this source cannot snapshot ${table} on request`, 'reset the offsets to snapshot everything again');
    return this.source.requestSnapshot(table);
  }

  /**
   * Runs until stop() (resolves) or a non-retriable error (rejects; status FAILED). Losing the source's store
   * after it once answered (during the snapshot or start-up as much as while streaming) is not a failure:
   * everything is closed and a new run starts once it is back, from the acknowledged position (a snapshot cut
   * short is taken again).
   */
  async run(): Promise<void> {
    const backoff = new Backoff({ baseDelayMs: 1000, maxDelayMs: 30_000, resetAfterMs: 60_000 });
    try {
      for (;;) {
        backoff.begin();
        try {
          await this.source.run();
          break;
        } catch (err) {
          const loss = this.stopping ? null : await this.source.lost(err);
          if (!loss) throw err;
          const delay = backoff.next();
          this.metrics?.errors.inc({ code: loss });
          this.log.warn({ err: (err as Error).message, code: loss, during: this.source.status, retryInMs: delay }, 'lost the source; starting over once it is back (nothing past its acknowledged position was acknowledged)');
          await this.source.close();
          await backoff.wait(delay, () => this.stopping);
          if (this.stopping) break;
        }
      }
      this.ended = 'STOPPED';
    } catch (err) {
      if (this.stopping) {
        this.ended = 'STOPPED';
        return;
      }
      this.ended = 'FAILED';
      this.failure = err as Error;
      const e = err as Partial<TracelakeError>;
      this.metrics?.errors.inc({ code: e.code ?? 'UNEXPECTED' });
      this.log.error({ err, code: e.code, remedy: e.remedy }, 'connector failed');
      throw err;
    } finally {
      await this.source.close();
    }
  }

  /** Graceful: what was read is sent to Kafka and acknowledged to the source, then run() resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.gate.open();
    await this.source.stop();
  }
}
