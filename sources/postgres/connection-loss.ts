// How the Postgres source tells Postgres failures apart (its one classifier, unit-tested): is this error Postgres
// going away (a restart, a failover, a dropped connection) rather than something a retry cannot fix (a refused
// login, a missing table, a bad value)? The connector starts over after the first kind and fails with the second.
// And a connection refused at start: a certificate problem or an address/credentials one.

/** SQLSTATEs of a server that is shutting down, starting up, or dropped the connection (class 08). */
const SERVER_GONE = new Set(['57P01', '57P02', '57P03']);
const SOCKET_GONE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
// what node-postgres says when a connection ended under it (it sets no code on these)
const CLIENT_GONE = /Connection terminated|Client has encountered a connection error and is not queryable|Client was closed and is not queryable/;

export function isConnectionLoss(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (SERVER_GONE.has(code) || code.startsWith('08') || SOCKET_GONE.has(code))) return true;
    if (CLIENT_GONE.test(e.message)) return true;
  }
  return false;
}

/** A connection refused at start because of TLS (the server's certificate, the CA, the host name). */
export function isTlsFailure(err: unknown): boolean {
  return /certificate|SSL|TLS|self.signed/i.test((err as Error)?.message ?? '');
}
