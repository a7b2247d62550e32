// Retries with exponential backoff and full jitter (each wait a random time between 0 and the capped
// exponential delay, so clients that failed together do not retry together). Pure apart from the waiting.

export interface RetryPolicy {
  /** tries in all, the first included */
  attempts: number;
  /** the cap of the first wait; doubles with each retry */
  baseDelayMs: number;
  /** no wait is longer */
  maxDelayMs: number;
}

/** The wait before retry number `retry` (1 for the first): uniform in [0, min(max, base · 2^(retry−1))). */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1)));
}

/**
 * Runs `fn` until it succeeds, its error is not `retriable`, or `attempts` tries are spent (the last error is
 * thrown). The worst-case wait is bounded: attempts × the time one try may take, plus the sum of the delays.
 */
export async function withRetries<T>(
  fn: (attempt: number) => Promise<T>,
  opts: RetryPolicy & { retriable: (err: unknown) => boolean; onRetry?: (err: unknown, retry: number, delayMs: number) => void },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || !opts.retriable(err)) throw err;
      const delay = backoffDelay(attempt, opts);
      opts.onRetry?.(err, attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * The waits of a loop that retries for as long as it runs (a reconnect loop): exponential, capped, jittered
 * (each wait between half and all of the capped delay: never a busy loop, and instances that lost a server
 * together do not come back together), and back to the first delay once a try lasted `resetAfterMs` (a new
 * outage after a good run starts the backoff over).
 */
export class Backoff {
  private readonly policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'> & { resetAfterMs: number };
  private readonly random: () => number;
  private retry = 0;
  private triedAt = Date.now();

  constructor(policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'> & { resetAfterMs?: number }, random: () => number = Math.random) {
    this.policy = { resetAfterMs: 60_000, ...policy };
    this.random = random;
  }

  /** A try begins now (its length decides whether the next failure starts the backoff over). */
  begin(): void {
    this.triedAt = Date.now();
  }

  /** The wait before the next try. */
  next(): number {
    if (Date.now() - this.triedAt >= this.policy.resetAfterMs) this.retry = 0;
    this.retry++;
    const cap = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (this.retry - 1));
    return Math.floor(cap / 2 + this.random() * (cap / 2));
  }

  /** Waits `ms`, or less once `stopped()` is true (checked every 100 ms); then a new try begins. */
  async wait(ms: number, stopped: () => boolean = () => false): Promise<void> {
    for (const until = Date.now() + ms; Date.now() < until && !stopped();) await sleep(Math.min(100, until - Date.now()));
    this.begin();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
