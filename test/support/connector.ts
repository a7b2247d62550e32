// Running the real connector in-process against the local stack, with names unique to one test.
import pino from 'pino';
import pg from 'pg';
import { Connector } from '../../connector/src/connector.ts';
import { parseConnectorConfig, type ConnectorConfigInput } from '../../connector/src/config.ts';
import { stack, uniqueName } from './stack.ts';
import { parseLsn } from '../../schemas/src/lsn.ts';
import { sleep } from './wait.ts';

export const testLog = pino({ level: process.env.TL_LOG_LEVEL ?? 'silent' });

export interface ConnectorFixture {
  name: string;
  schema: string;
  db: pg.Client;
  /** a new `db` (after a Postgres restart ended the old one) */
  reconnect(): Promise<void>;
  config(overrides?: Partial<ConnectorConfigInput['source']>): ConnectorConfigInput;
  topic(table: string): string;
  cleanup(): Promise<void>;
}

/** A fresh Postgres schema plus slot, publication, topic prefix and state topic names for one test. */
export async function connectorFixture(prefix: string): Promise<ConnectorFixture> {
  const name = uniqueName(prefix).toLowerCase();
  const connect = async () => {
    const c = new pg.Client({ connectionString: stack().pgUrl });
    c.on('error', () => undefined); // a restart ends it; the next query says so
    await c.connect();
    return c;
  };
  const fixture: ConnectorFixture = {
    name, schema: name, db: await connect(),
    async reconnect() {
      await fixture.db.end().catch(() => undefined);
      fixture.db = await connect();
    },
    config: (overrides = {}) => ({
      source: { url: stack().pgUrl, tables: [], publication: { name }, slot: { name }, heartbeatIntervalMs: 500, statusIntervalMs: 1000, ...overrides },
      kafka: { brokers: stack().kafkaBrokers, topicPrefix: name, partitions: 1, stateTopic: `${name}.state` },
      registry: { url: stack().registryUrl },
      batching: { lingerMs: 5 },
    }),
    topic: (table) => `${name}.${name}.${table}`,
    cleanup: async () => {
      const { db } = fixture;
      await dropSlot(db, name);
      await db.query(`DROP PUBLICATION IF EXISTS ${name}`);
      await db.query(`DROP SCHEMA ${name} CASCADE`);
      await db.end();
    },
  };
  await fixture.db.query(`CREATE SCHEMA ${name}`);
  return fixture;
}

export interface SlotFixture {
  db: pg.Client;
  /** the table, its publication and its pgoutput slot all have this name */
  name: string;
  /** the slot's consistent point */
  startLsn: bigint;
  /** drops slot, publication and table (stop any stream on the slot first) and ends `db` */
  cleanup(): Promise<void>;
}

/** A one-column table with a publication and a pgoutput slot, for tests of the replication stream alone. */
export async function slotFixture(prefix: string): Promise<SlotFixture> {
  const db = new pg.Client({ connectionString: stack().pgUrl });
  await db.connect();
  const name = uniqueName(prefix);
  await db.query(`CREATE TABLE ${name} (id int PRIMARY KEY)`);
  await db.query(`CREATE PUBLICATION ${name} FOR TABLE ${name}`);
  const { rows: [slot] } = await db.query<{ lsn: string }>(`SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')`, [name]);
  return {
    db, name, startLsn: parseLsn(slot!.lsn),
    cleanup: async () => {
      await db.query('SELECT pg_drop_replication_slot($1)', [name]).catch(() => undefined);
      await db.query(`DROP PUBLICATION IF EXISTS ${name}`);
      await db.query(`DROP TABLE IF EXISTS ${name}`);
      await db.end();
    },
  };
}

/** Starts a connector; resolves once it streams. `done` settles when it stops or fails. */
export async function startConnector(input: ConnectorConfigInput): Promise<{ connector: Connector; done: Promise<void> }> {
  const connector = new Connector(parseConnectorConfig(input), testLog);
  const done = connector.run();
  done.catch(() => undefined);
  for (let i = 0; i < 600 && connector.status !== 'RUNNING'; i++) {
    if (connector.status === 'FAILED') await done;
    await sleep(50);
  }
  if (connector.status !== 'RUNNING') throw new Error(`connector did not start streaming (status ${connector.status})`);
  return { connector, done };
}

/** Drops a slot, ending the stream that holds it first (a slot left behind pins WAL and uses up max_replication_slots). */
export async function dropSlot(db: pg.Client, name: string): Promise<void> {
  for (const until = Date.now() + 10_000; Date.now() < until;) {
    await db.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, [name]);
    const dropped = await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [name]).then(() => true, () => false);
    const { rowCount } = await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [name]);
    if (dropped && rowCount === 0) return;
    await sleep(200);
  }
}
