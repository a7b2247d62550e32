// Publication and replication-slot management, and the server checks that come before streaming.
import pg from 'pg';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { parseLsn } from '../../schemas/src/lsn.ts';
import { TEXT_RENDERING_OPTIONS } from './replication-stream.ts';

export type PublicationMode = 'filtered' | 'disabled';

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
export const qualifiedIdent = (schema: string, table: string) => `${ident(schema)}.${ident(table)}`;

/** What streaming needs from the server and the user: wal_level logical and the REPLICATION attribute. */
export async function checkServer(db: pg.ClientBase): Promise<void> {
  await checkWalLevel(db);
  await checkReplicationRole(db);
}

export async function checkReplicationRole(db: pg.ClientBase): Promise<void> {
  const { rows: [role] } = await db.query<{ rep: boolean; sup: boolean; name: string }>(
    'SELECT rolreplication AS rep, rolsuper AS sup, rolname AS name FROM pg_roles WHERE rolname = current_user');
  if (role && !role.rep && !role.sup) {
    throw new TracelakeError(`the connector user ${role.name} lacks the REPLICATION attribute: it cannot create or stream a replication slot`, {
      code: 'PG_PRIVILEGE', remedy: `ALTER ROLE ${ident(role.name)} WITH REPLICATION (no superuser needed; see docs/operations.md for the least-privilege role)`,
    });
  }
}

export async function checkWalLevel(db: pg.ClientBase): Promise<void> {
  const { rows: [r] } = await db.query<{ wal_level: string }>('SHOW wal_level');
  if (r?.wal_level !== 'logical') {
    throw new TracelakeError(`the server's wal_level is '${r?.wal_level}', logical decoding needs 'logical'`, {
      code: 'WAL_LEVEL', remedy: "set wal_level = logical in postgresql.conf (or the cloud provider's logical replication flag) and restart Postgres",
    });
  }
}

/** Makes the publication cover exactly `tables` (filtered), or checks that it exists (disabled). */
export async function ensurePublication(db: pg.ClientBase, name: string, tables: Array<[string, string]>, mode: PublicationMode): Promise<void> {
  const { rows } = await db.query<{ schemaname: string; tablename: string }>(
    'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1', [name]);
  const { rows: [exists] } = await db.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name]);
  if (mode === 'disabled') {
    if (!exists) {
      throw new TracelakeError(`publication ${name} does not exist and publication.autocreate is disabled`, {
        code: 'PUBLICATION_MISSING', remedy: `CREATE PUBLICATION ${ident(name)} FOR TABLE …, or set publication.autocreate: filtered`,
      });
    }
    const have = new Set(rows.map((r) => `${r.schemaname}.${r.tablename}`));
    const missing = tables.filter(([s, t]) => !have.has(`${s}.${t}`));
    if (missing.length > 0) {
      throw new TracelakeError(`publication ${name} lacks ${missing.map(([s, t]) => `${s}.${t}`).join(', ')}`, {
        code: 'PUBLICATION_INCOMPLETE', remedy: `ALTER PUBLICATION ${ident(name)} ADD TABLE …, or set publication.autocreate: filtered`,
      });
    }
    return;
  }
  const list = tables.map(([s, t]) => qualifiedIdent(s, t)).join(', ');
  if (!exists) {
    await db.query(`CREATE PUBLICATION ${ident(name)} FOR TABLE ${list}`);
    return;
  }
  const want = new Set(tables.map(([s, t]) => `${s}.${t}`));
  const have = new Set(rows.map((r) => `${r.schemaname}.${r.tablename}`));
  if (want.size !== have.size || [...want].some((t) => !have.has(t))) {
    await db.query(`ALTER PUBLICATION ${ident(name)} SET TABLE ${list}`);
  }
}

export interface SlotState {
  exists: boolean;
  activePid: number | null;
  confirmedFlushLsn: bigint | null;
  walStatus: string | null;
  plugin: string | null;
}

export async function slotState(db: pg.ClientBase, slot: string): Promise<SlotState> {
  const { rows: [r] } = await db.query<{ active_pid: number | null; confirmed_flush_lsn: string | null; wal_status: string | null; plugin: string | null }>(
    `SELECT active_pid, confirmed_flush_lsn::text, wal_status, plugin FROM pg_replication_slots WHERE slot_name = $1 AND slot_type = 'logical'`,
    [slot]);
  if (!r) return { exists: false, activePid: null, confirmedFlushLsn: null, walStatus: null, plugin: null };
  return {
    exists: true, activePid: r.active_pid, walStatus: r.wal_status, plugin: r.plugin,
    confirmedFlushLsn: r.confirmed_flush_lsn ? parseLsn(r.confirmed_flush_lsn) : null,
  };
}

/** What /metrics reports about the slot: WAL held back, wal_status, headroom, whether it is streamed. */
export async function slotLag(db: pg.ClientBase, slot: string): Promise<{ lagBytes: number; walStatus: string | null; safeWalSizeBytes: number | null; active: boolean } | undefined> {
  const { rows: [r] } = await db.query<{ lag: string | null; wal_status: string | null; safe: string | null; active: boolean }>(
    `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS lag, wal_status, safe_wal_size::text AS safe, active
       FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
  if (!r) return undefined;
  return { lagBytes: Number(r.lag ?? 0), walStatus: r.wal_status, safeWalSizeBytes: r.safe === null ? null : Number(r.safe), active: r.active };
}

export function assertSlotUsable(slot: string, s: SlotState): void {
  if (s.plugin && s.plugin !== 'pgoutput') {
    throw new TracelakeError(`replication slot ${slot} uses plugin ${s.plugin}, not pgoutput`, {
      code: 'SLOT_PLUGIN', remedy: `choose another slot.name, or drop the slot: SELECT pg_drop_replication_slot('${slot}')`,
    });
  }
  if (s.walStatus === 'lost') {
    throw new TracelakeError(`replication slot ${slot} has lost WAL it needed (wal_status=lost): changes were removed before they were read`, {
      code: 'SLOT_LOST',
      remedy: `drop the slot (SELECT pg_drop_replication_slot('${slot}')) and restart with snapshot.mode when_needed to re-snapshot; raise max_slot_wal_keep_size to avoid it`,
    });
  }
}

export async function dropSlot(db: pg.ClientBase, slot: string): Promise<void> {
  await db.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
}

/**
 * A replication-protocol connection that created a slot and exported its snapshot. The snapshot stays valid
 * while this connection is open and idle: read with it, then close().
 */
export interface ExportedSlot {
  consistentPoint: bigint;
  snapshotName: string | null;
  close(): Promise<void>;
}

export async function createSlot(conn: pg.ClientConfig, slot: string, opts: { exportSnapshot: boolean; temporary?: boolean }): Promise<ExportedSlot> {
  const client = new pg.Client({ ...conn, replication: 'database', options: TEXT_RENDERING_OPTIONS } as pg.ClientConfig);
  client.on('error', () => undefined); // a lost connection fails the snapshot that reads through it
  await client.connect();
  try {
    const { rows: [r] } = await client.query<{ consistent_point: string; snapshot_name: string | null }>(
      `CREATE_REPLICATION_SLOT ${ident(slot)} ${opts.temporary ? 'TEMPORARY ' : ''}LOGICAL pgoutput ${opts.exportSnapshot ? 'EXPORT_SNAPSHOT' : 'NOEXPORT_SNAPSHOT'}`);
    if (!r) throw new Error('CREATE_REPLICATION_SLOT returned no row');
    const result = { consistentPoint: parseLsn(r.consistent_point), snapshotName: r.snapshot_name, close: () => client.end() };
    if (!opts.exportSnapshot && !opts.temporary) await client.end();
    return result;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}
