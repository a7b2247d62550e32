// Closing a client that may never report its end (kafkajs' disconnect waiting on a backing-off consumer loop,
// a node-postgres client ended while connecting): wait for it, but not for ever.

/** Waits for `p` (its failure ignored) at most `ms`. */
export async function bounded(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.resolve(p).catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
