// The connector as a hosted service: its worker, metrics, offsets (the slot and the snapshot record),
// config validation, and the per-table snapshot endpoint.
import pg from 'pg';
import type { Logger } from 'pino';
import { connectorConfigSchema, type ConnectorConfig } from './config.ts';
import { Connector } from './connector.ts';
import { ConnectorMetrics } from './metrics.ts';
import { connectorChecks } from './preflight.ts';
import { StateStore } from '../../emitter/kafka/state-store.ts';
import { clickhouseStateKey } from '../../sources/clickhouse/clickhouse-config.ts';
import { dropSlot, slotLag, slotState } from '../../sources/postgres/slot.ts';
import { serviceMetrics } from '../../runtime/metrics.ts';
import { configProblems } from '../../runtime/config/parse.ts';
import type { HostedService } from '../../runtime/service-host.ts';
import { ConflictError } from '../../runtime/supervisor.ts';
import { HttpError } from '../../runtime/rest/server.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { formatLsn, parseLsn } from '../../schemas/src/lsn.ts';
import { objectStorageStateKey } from '../../sources/object-storage/object-storage-config.ts';

export function connectorService(cfg: ConnectorConfig, log: Logger): HostedService<Connector> {
  const metrics = serviceMetrics('connector');
  const connectorMetrics = new ConnectorMetrics(metrics.registry);
  const withDb = async <T>(fn: (db: pg.Client) => Promise<T>): Promise<T> => {
    if (!cfg.source.url) throw new TracelakeError('this connector captures no Postgres database: it has no slot', { code: 'NOT_FOUND', remedy: 'DELETE /offsets resets the other sources\' positions' });
    const db = new pg.Client({ connectionString: cfg.source.url, application_name: 'tracelake-admin', connectionTimeoutMillis: 10_000 });
    db.on('error', () => undefined); // surfaces through the failing query
    await db.connect();
    try {
      return await fn(db);
    } finally {
      await db.end().catch(() => undefined);
    }
  };
  const slot = cfg.source.slot.name;
  // the slot is watched by its own connection, so /metrics shows lag growing also while the pipeline is
  // PAUSED, STOPPED or FAILED — the states in which it grows
  let monitor: Promise<pg.Client> | undefined;
  if (cfg.source.url) metrics.beforeScrape.push(async () => {
    monitor ??= (async () => {
      const db = new pg.Client({ connectionString: cfg.source.url, application_name: 'tracelake-monitor', connectionTimeoutMillis: 5000 });
      db.on('error', () => { monitor = undefined; });
      await db.connect();
      return db;
    })();
    try {
      connectorMetrics.setSlot(await slotLag(await monitor, slot));
    } catch (err) {
      monitor = undefined;
      throw err;
    }
  });
  return {
    component: 'connector', type: 'source', http: cfg.http,
    lifecycle: { state: cfg.state, failurePolicy: cfg.failurePolicy }, metrics,
    createWorker: () => new Connector(cfg, log, connectorMetrics),

    offsets: async () => {
      const store = new StateStore(cfg.kafka, cfg.kafka.stateTopic);
      try {
        const snapshot = await store.read(slot);
        // the ClickHouse source's position: per table and partition, the blocks taken, and the mutations followed
        const clickhouse = cfg.clickhouse ? { clickhouse: (await store.read(clickhouseStateKey(cfg, cfg.clickhouse))) ?? null } : {};
        // the object-storage source's position: the export units taken (with their entity tags) and the files dead-lettered
        const objectStorage = cfg.objectStorage ? { objectStorage: (await store.read(objectStorageStateKey(cfg, cfg.objectStorage))) ?? null } : {};
        if (!cfg.source.url) return { ...clickhouse, ...objectStorage };
        return await withDb(async (db) => {
          const { rows: [r] } = await db.query<{ exists: boolean; confirmed: string | null; restart: string | null; wal_status: string | null; active_pid: number | null; lag: string | null; current: string }>(
            `SELECT s.slot_name IS NOT NULL AS exists, s.confirmed_flush_lsn::text AS confirmed, s.restart_lsn::text AS restart, s.wal_status, s.active_pid,
                    pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::text AS lag, pg_current_wal_lsn()::text AS current
               FROM (SELECT 1) one LEFT JOIN pg_replication_slots s ON s.slot_name = $1`, [slot]);
          return {
            slot: !r?.exists
              ? { name: slot, exists: false }
              : { name: slot, exists: true, confirmed_flush_lsn: r.confirmed, restart_lsn: r.restart, wal_status: r.wal_status, active_pid: r.active_pid, lag_bytes: Number(r.lag ?? 0) },
            server_wal_lsn: r?.current,
            snapshot: snapshot ?? null,
            ...clickhouse,
            ...objectStorage,
          };
        });
      } finally {
        await store.close();
      }
    },

    resetOffsets: async (change) => {
      if (change === undefined) {
        // DELETE: forget the position: the slot goes, and so does the record of the finished snapshot,
        // so the next start snapshots again (the sink absorbs the replay: MERGEs are idempotent)
        const dropped = !cfg.source.url ? false : await withDb(async (db) => {
          const s = await slotState(db, slot);
          if (s.activePid) throw new ConflictError(`slot ${slot} is streamed by process ${s.activePid}`, 'stop every instance of this connector first');
          if (s.exists) await dropSlot(db, slot);
          return s.exists;
        });
        const store = new StateStore(cfg.kafka, cfg.kafka.stateTopic);
        try {
          await store.write(slot, null);
          if (cfg.clickhouse) await store.write(clickhouseStateKey(cfg, cfg.clickhouse), null); // its tables are read whole again
          if (cfg.objectStorage) await store.write(objectStorageStateKey(cfg, cfg.objectStorage), null); // every export file is taken again
        } finally {
          await store.close();
        }
        log.warn({ slot, dropped }, 'offsets reset: the next start takes a new snapshot');
        return { slot, dropped, snapshot: null, next: `start (PUT /resume) takes a new snapshot per source.snapshot.mode (${cfg.source.snapshot.mode})` };
      }
      // PATCH { "lsn": "0/16B3748" }: move the slot forward (skips changes: they are not captured)
      const lsn = (change as { lsn?: unknown }).lsn;
      if (typeof lsn !== 'string' || !/^[0-9A-Fa-f]+\/[0-9A-Fa-f]+$/.test(lsn)) throw new HttpError(400, 'send { "lsn": "X/Y" }: the position to move the slot forward to');
      return withDb(async (db) => {
        const s = await slotState(db, slot);
        if (!s.exists) throw new TracelakeError(`slot ${slot} does not exist`, { code: 'NOT_FOUND', remedy: 'start the connector once to create it' });
        if (s.activePid) throw new ConflictError(`slot ${slot} is streamed by process ${s.activePid}`, 'stop every instance of this connector first');
        if (s.confirmedFlushLsn !== null && parseLsn(lsn) < s.confirmedFlushLsn) {
          throw new HttpError(400, `a slot only moves forward: ${lsn} is before its confirmed position ${formatLsn(s.confirmedFlushLsn)}; DELETE /offsets to start over`);
        }
        const { rows: [r] } = await db.query<{ end_lsn: string }>('SELECT end_lsn::text FROM pg_replication_slot_advance($1, $2::pg_lsn)', [slot, lsn]);
        log.warn({ slot, lsn: r?.end_lsn }, 'slot moved forward by request: changes before it are skipped');
        return { slot, confirmed_flush_lsn: r?.end_lsn };
      });
    },

    validate: async (raw, withChecks) => {
      const errors = configProblems(connectorConfigSchema, raw);
      const checks = errors.length === 0 && withChecks ? await connectorChecks(connectorConfigSchema.parse(raw)) : [];
      return { valid: errors.length === 0 && checks.every((c) => c.ok), errors, checks };
    },

    routes: (sup) => [{
      method: 'POST', path: '/tables/:table/snapshot',
      handle: ({ params }) => {
        if (sup.state !== 'RUNNING' || !sup.worker) throw new ConflictError(`cannot snapshot while the connector is ${sup.state}`, 'PUT /resume first');
        return { status: 202, json: { table: params.table, ...sup.worker.requestSnapshot(params.table!) } };
      },
    }],
  };
}
