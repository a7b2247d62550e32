// What a failed ClickHouse request means: the server went away (the connector starts a new run once it is
// back) or a failure with a remedy. Server errors carry ClickHouse's numeric code (@clickhouse/client's
// ClickHouseError.code); network errors carry Node's errno code.
import { ClickHouseError } from '@clickhouse/client';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { isNetworkError } from '../../runtime/network-errors.ts';

/** ClickHouse codes of a server that is shutting down, overloaded or timed out: worth a new run */
const TRANSIENT_SERVER_CODES = new Set(['159', '160', '202', '203', '209', '210', '242', '394', '1002']);

/** The server (or the way to it) went away: a new run once it answers again. */
export function isClickHouseLoss(err: unknown): boolean {
  if (err instanceof ClickHouseError) return TRANSIENT_SERVER_CODES.has(err.code);
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (isNetworkError(e)) return true;
  // the client ends a request that outlives request_timeout with this message (no code)
  if (typeof e.message === 'string' && /^Timeout error\.?$/.test(e.message)) return true;
  if (typeof e.message === 'string' && /socket hang up/.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err ? isClickHouseLoss(e.cause) : false;
}

/**
 * A failure reported at start as an error with a code and remedy (the others pass unchanged). The cause is
 * kept: a server that went away is still recognised (isClickHouseLoss) when a new run cannot reach it yet.
 */
export function describeStartFailure(err: unknown, url: string, user: string, tls: boolean): unknown {
  if (err instanceof ClickHouseError) {
    if (err.code === '516' || err.code === '192' || err.code === '194') {
      return new TracelakeError(`ClickHouse at ${url} refused user ${user}: ${err.message}`, {
        code: 'CLICKHOUSE_AUTH_FAILED', cause: err, remedy: 'check clickhouse.username and clickhouse.password (and that the user may connect from this host)',
      });
    }
    if (err.code === '81') {
      return new TracelakeError(`ClickHouse database does not exist: ${err.message}`, { code: 'CLICKHOUSE_DATABASE_MISSING', cause: err, remedy: 'check clickhouse.database (Langfuse: CLICKHOUSE_DB)' });
    }
    if (err.code === '497') {
      return new TracelakeError(`ClickHouse user ${user} lacks a grant: ${err.message}`, {
        code: 'CLICKHOUSE_ACCESS_DENIED', cause: err, remedy: 'grant the user SELECT on the captured tables and on system.parts, system.mutations, system.tables, system.columns (docs/sources/clickhouse.md)',
      });
    }
    return err;
  }
  const e = err as { code?: unknown; message?: unknown };
  if (tls && typeof e?.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(e.code)) {
    return new TracelakeError(`the TLS certificate of ClickHouse at ${url} was not accepted (${e.code})`, {
      code: 'CLICKHOUSE_TLS', cause: err, remedy: 'set clickhouse.caFile to the CA that signed the server certificate, and check that the host name matches it',
    });
  }
  if (isClickHouseLoss(err)) {
    return new TracelakeError(`ClickHouse at ${url} is not reachable: ${String(e?.message ?? err)}`, {
      code: 'CLICKHOUSE_UNREACHABLE', cause: err, remedy: 'check clickhouse.url (scheme, host, HTTP port: 8123, or 8443 for https) and that the server runs', retriable: true,
    });
  }
  return err;
}
