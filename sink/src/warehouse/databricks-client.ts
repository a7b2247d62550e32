// The sink's only door to the warehouse: a Databricks SQL warehouse reached with @databricks/sql.
// Locally the same code talks to Spark+Delta through the stack's warehouse gateway.
import { DBSQLClient } from '@databricks/sql';
import { SessionPool } from './session-pool.ts';
type Session = Awaited<ReturnType<DBSQLClient['openSession']>>;

export interface WarehouseOptions {
  /** Server hostname of the SQL warehouse, e.g. dbc-1234.cloud.databricks.com */
  host: string;
  port?: number;
  /** HTTP path of the warehouse, e.g. /sql/1.0/warehouses/abc123 */
  path: string;
  /** a personal access token, or an OAuth service principal (machine-to-machine, client credentials) */
  auth: { token: string } | { clientId: string; clientSecret: string };
  /** Extra CA certificate(s) to trust, PEM (only needed for private CAs). */
  caCert?: Buffer | string;
  /** Statements run at once, each on its own session (default 1); see session-pool.ts for who goes first. */
  sessions?: number;
  /** Where the driver's own log lines go (default: dropped below warn, warn/error to stderr). */
  log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;
}

const defaultLog: NonNullable<WarehouseOptions['log']> = (level, message) => {
  if (level === 'error' || level === 'warn') process.stderr.write(`@databricks/sql ${level}: ${message}\n`);
};

export interface Warehouse {
  /** Runs one statement and returns its rows (empty for DDL/DML). */
  query<Row = Record<string, unknown>>(sql: string): Promise<Row[]>;
  close(): Promise<void>;
}

export async function connectWarehouse(opts: WarehouseOptions): Promise<Warehouse> {
  const log = opts.log ?? defaultLog;
  const client = new DBSQLClient({ logger: { log: (level, message) => log(level, message) } });
  client.on('error', () => undefined); // surfaced through the failing call instead
  await client.connect({
    host: opts.host,
    port: opts.port ?? 443,
    path: opts.path,
    ...('token' in opts.auth
      ? { token: opts.auth.token }
      : { authType: 'databricks-oauth' as const, oauthClientId: opts.auth.clientId, oauthClientSecret: opts.auth.clientSecret }),
    ...(opts.caCert ? { customCaCert: opts.caCert } : {}),
    telemetryEnabled: false,              // the driver phones home by default
    preserveBigNumericPrecision: true,    // DECIMAL as string, BIGINT as bigint where the result format allows
  });
  let first: Session;
  try {
    first = await client.openSession();
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  const pool = new SessionPool(first, () => client.openSession(), Math.max(1, opts.sessions ?? 1));
  return {
    async query<Row>(sql: string): Promise<Row[]> {
      const session = await pool.take();
      try {
        const op = await session.executeStatement(sql);
        try {
          return (await op.fetchAll()) as Row[];
        } finally {
          await op.close().catch(() => undefined);
        }
      } catch (err) {
        throw withServerMessage(err);
      } finally {
        pool.give(session);
      }
    },
    async close() {
      await Promise.all(pool.sessions().map((session) => session.close().catch(() => undefined)));
      await client.close();
    },
  };
}

/**
 * The driver reports a failed statement as "The operation failed due to an error" and keeps the server's
 * reason in `response` (displayMessage on Databricks, errorMessage on Hive-protocol servers): put it in the
 * message, where operators and the dead-letter headers see it.
 */
function withServerMessage(err: unknown): unknown {
  const e = err as Error & { errorCode?: string; response?: { displayMessage?: string; errorMessage?: string; sqlState?: string } };
  if (e?.errorCode !== 'ERROR' || !e.response) return err;
  const reason = (e.response.displayMessage ?? e.response.errorMessage ?? '').split('\n')[0]!.slice(0, 1000);
  if (!reason || e.message.includes(reason)) return err;
  const wrapped = new Error(`${e.message}: ${reason}${e.response.sqlState ? ` (SQLSTATE ${e.response.sqlState})` : ''}`, { cause: err });
  wrapped.name = 'WarehouseStatementError';
  return wrapped;
}
