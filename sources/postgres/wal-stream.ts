// The Postgres source's streaming phase: the slot's changes from its confirmed position into the handler,
// reconnecting with backoff when the replication connection breaks, standing by while another process holds
// the slot, and a heartbeat message that keeps an idle slot advancing.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { PgoutputHandler } from './pgoutput-handler.ts';
import type { ReplicationStream } from './replication-stream.ts';
import { assertSlotUsable, slotState } from './slot.ts';
import type { SourceStatus } from '../source.ts';
import type { ConnectorConfig } from '../../connector/src/config.ts';
import type { ConnectorMetrics } from '../../connector/src/metrics.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { formatLsn } from '../../schemas/src/lsn.ts';
import type { Gate } from '../../runtime/gate.ts';
import { Backoff, sleep } from '../../runtime/retry.ts';

export interface WalStreamPorts {
  log: Logger;
  metrics?: ConnectorMetrics;
  gate: Gate;
  stream: ReplicationStream;
  handler: PgoutputHandler;
  db: () => pg.Client;
  /** makes sure the main connection answers again after the stream broke (reconnects it if not) */
  reconnectDb: () => Promise<void>;
  status: (s: SourceStatus) => void;
  stopping: () => boolean;
}

/** Streams until stopped; rejects on a non-retriable error (a lost slot, a busy one with whenBusy fail, a value that cannot be converted). */
export async function streamSlot(source: ConnectorConfig['source'], p: WalStreamPorts): Promise<void> {
  const backoff = new Backoff({ baseDelayMs: 500, maxDelayMs: 30_000, resetAfterMs: 30_000 });
  let standingBy = false;
  while (!p.stopping()) {
    const slot = await slotState(p.db(), source.slot.name);
    assertSlotUsable(source.slot.name, slot);
    if (!slot.exists) {
      throw new TracelakeError(`replication slot ${source.slot.name} disappeared`, {
        code: 'SLOT_LOST', remedy: 'someone dropped the slot; restart with source.snapshot.mode when_needed',
      });
    }
    if (slot.activePid !== null) {
      if (source.slot.whenBusy === 'fail') {
        throw new TracelakeError(`slot ${source.slot.name} is streamed by process ${slot.activePid}`, {
          code: 'SLOT_BUSY', remedy: 'another connector instance owns the slot; stop it, or set slot.whenBusy: wait to stand by',
        });
      }
      if (!standingBy) p.log.info({ pid: slot.activePid }, 'slot is in use by another process; standing by');
      standingBy = true;
      p.status('STANDBY');
      await sleep(2000);
      continue;
    }
    standingBy = false;
    const start = slot.confirmedFlushLsn ?? 0n;
    p.handler.reset(start);
    p.status('RUNNING');
    p.metrics?.connected.set(1);
    p.log.info({ slot: source.slot.name, from: formatLsn(start) }, 'streaming');
    backoff.begin();
    try {
      await p.stream.run(start, {
        onMessage: async (lsn, msg) => {
          if (p.gate.closed) await p.gate.wait(); // paused: flow control stops reading the socket; status updates go on
          return p.handler.onMessage(lsn, msg);
        },
        onKeepalive: (lsn) => p.handler.onKeepalive(lsn),
      });
    } catch (err) {
      p.metrics?.connected.set(0);
      if (p.stopping()) break;
      const e = err as Partial<TracelakeError> & { code?: string };
      p.metrics?.errors.inc({ code: e.code ?? 'REPLICATION_INTERRUPTED' });
      if (e instanceof TracelakeError && !e.retriable) throw err;
      const delay = backoff.next();
      if (e.code === '55006') { // object_in_use: the slot was taken between our check and START_REPLICATION
        p.log.info('slot taken by another process; standing by');
      } else {
        p.log.warn({ err: (err as Error).message, retryInMs: delay }, 'replication interrupted; reconnecting');
      }
      await backoff.wait(delay, p.stopping);
      await p.reconnectDb();
    }
  }
}

/** Emits a heartbeat message every source.heartbeatIntervalMs (0: none); returns the timer to clear. */
export function startHeartbeat(source: ConnectorConfig['source'], db: () => pg.Client | undefined, log: Logger): NodeJS.Timeout | undefined {
  const every = source.heartbeatIntervalMs;
  if (every <= 0) return undefined;
  return setInterval(() => {
    db()?.query(`SELECT pg_logical_emit_message(false, 'tracelake_heartbeat', '')`).catch((err: unknown) => {
      log.warn({ err }, 'heartbeat failed');
    });
  }, every);
}
