// Warehouse trouble is retried with backoff for as long as the sink runs (status RETRYING meanwhile); other
// errors go up at once (warehouse-errors.ts). The consumer's heartbeats go on meanwhile (the client's own).
import type { Logger } from 'pino';
import { isTransient } from './warehouse-errors.ts';
import type { SinkMetrics } from '../metrics.ts';
import { Backoff } from '../../../runtime/retry.ts';

export interface WarehouseRetryPorts {
  log: Logger;
  metrics?: SinkMetrics;
  stopping: () => boolean;
}

export class WarehouseRetry {
  private readonly ports: WarehouseRetryPorts;
  /** a statement is waiting for the warehouse to come back */
  retrying = false;

  constructor(ports: WarehouseRetryPorts) {
    this.ports = ports;
  }

  async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const backoff = new Backoff({ baseDelayMs: 500, maxDelayMs: 30_000 });
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await fn();
        this.retrying = false;
        return out;
      } catch (err) {
        if (!isTransient(err) || this.ports.stopping()) throw err;
        this.retrying = true;
        this.ports.metrics?.retries.inc();
        const delay = backoff.next();
        this.ports.log.warn({ what, attempt, retryInMs: delay, err: (err as Error).message }, 'warehouse unavailable; retrying');
        await backoff.wait(delay, this.ports.stopping);
      }
    }
  }
}
