// Errors that mean the way to a server went away (refused, reset, timed out, not resolvable), by Node's errno
// codes and the names clients give them, looked for along an error's cause chain. The polling sources' loss
// classifiers start from it and add their server's own transient codes.
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND',
  'UND_ERR_SOCKET', 'TimeoutError', 'RequestTimeout',
]);

/** Whether `err` (or an error it was caused by) is a network failure. */
export function isNetworkError(err: unknown): boolean {
  for (let e = err as { code?: unknown; name?: unknown; cause?: unknown } | null | undefined, depth = 0; e && typeof e === 'object' && depth < 8; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
    if (typeof e.name === 'string' && NETWORK_CODES.has(e.name)) return true;
  }
  return false;
}
