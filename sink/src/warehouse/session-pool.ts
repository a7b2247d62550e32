// Warehouse sessions shared by the statements the sink runs at once: a statement takes an idle session, opens
// another while fewer than `max` are open, or waits for one. One statement per session at a time is what every
// SQL warehouse protocol supports. Waiting statements are served by priority, then first come, first served:
// the MERGEs of the tables the curated views read go before other tables' (see withStatementPriority).
import { AsyncLocalStorage } from 'node:async_hooks';

/** Lower runs first. */
export const PRIORITY = { views: 0, tables: 1, background: 2 } as const;

const priority = new AsyncLocalStorage<number>();

/** Runs `fn` with every warehouse statement it issues (however deep) queued at `p`. */
export function withStatementPriority<T>(p: number, fn: () => Promise<T>): Promise<T> {
  return priority.run(p, fn);
}

export class SessionPool<S> {
  private readonly idle: S[];
  private readonly all: S[];
  private waiting: Array<{ priority: number; seq: number; resolve: (s: S) => void }> = [];
  private seq = 0;
  private opening = 0;
  private readonly open: () => Promise<S>;
  private readonly max: number;

  constructor(first: S, open: () => Promise<S>, max: number) {
    this.idle = [first];
    this.all = [first];
    this.open = open;
    this.max = Math.max(1, max);
  }

  async take(): Promise<S> {
    const idle = this.idle.pop();
    if (idle) return idle;
    if (this.all.length + this.opening < this.max) {
      this.opening++;
      try {
        const s = await this.open();
        this.all.push(s);
        return s;
      } catch {
        // the warehouse refused another session: use one of those open (one may have come back meanwhile)
      } finally {
        this.opening--;
      }
      const back = this.idle.pop();
      if (back) return back;
    }
    return new Promise((resolve) => {
      this.waiting.push({ priority: priority.getStore() ?? PRIORITY.tables, seq: this.seq++, resolve });
    });
  }

  give(s: S): void {
    if (this.waiting.length === 0) {
      this.idle.push(s);
      return;
    }
    let best = 0;
    for (let i = 1; i < this.waiting.length; i++) {
      const w = this.waiting[i]!;
      const b = this.waiting[best]!;
      if (w.priority < b.priority || (w.priority === b.priority && w.seq < b.seq)) best = i;
    }
    const [next] = this.waiting.splice(best, 1);
    next!.resolve(s);
  }

  /** Every session opened. */
  sessions(): readonly S[] {
    return this.all;
  }
}
