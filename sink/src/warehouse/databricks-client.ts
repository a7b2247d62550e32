// The sink's only door to the warehouse: a Databricks SQL warehouse reached with @databricks/sql.
// Locally the same code talks to Spark+Delta through the stack's warehouse gateway.
import { DBSQLClient } from '@databricks/sql';
type Session = Awaited<ReturnType<DBSQLClient['openSession']>>;

export interface WarehouseOptions {
  /** Server hostname of the SQL warehouse, e.g. dbc-1234.cloud.databricks.com */
  host: string;
  port?: number;
  /** HTTP path of the warehouse, e.g. /sql/1.0/warehouses/abc123 */
  path: string;
  /** Personal access token. */
  token: string;
  /** Extra CA certificate(s) to trust, PEM (only needed for private CAs). */
  caCert?: Buffer | string;
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
    token: opts.token,
    ...(opts.caCert ? { customCaCert: opts.caCert } : {}),
    telemetryEnabled: false,              // the driver phones home by default
    preserveBigNumericPrecision: true,    // DECIMAL as string, BIGINT as bigint where the result format allows
  });
  let session: Session;
  try {
    session = await client.openSession();
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  return {
    async query<Row>(sql: string): Promise<Row[]> {
      const op = await session.executeStatement(sql);
      try {
        return (await op.fetchAll()) as Row[];
      } finally {
        await op.close();
      }
    },
    async close() {
      await session.close().catch(() => undefined);
      await client.close();
    },
  };
}
