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
