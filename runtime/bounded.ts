// Closing a client that may never report its end (kafkajs' disconnect waiting on a backing-off consumer loop,
// a node-postgres client ended while connecting): wait for it, but not for ever.

/** Waits for `p` (its failure ignored) at most `ms`. */
export async function bounded(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.resolve(p).catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** `p`, or a rejection with `timedOut()` when it has not settled within `ms` (its later outcome ignored). */
export async function deadline<T>(p: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  p.catch(() => undefined);
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timedOut()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
