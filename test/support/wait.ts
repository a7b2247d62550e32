// Waiting in tests: one `until` (a condition polled until it holds, or a timeout naming what was awaited) and
// one `sleep`.
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `ok` every `everyMs` until it is true (a throwing check counts as false); fails after `timeoutMs` naming `what`. */
export async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(ok).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
