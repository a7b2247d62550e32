// The replication connection: START_REPLICATION on a pgoutput slot through pg-logical-replication, with
// our own pgoutput decoder, manual acknowledgement only, and keepalive answers.
//
// Three behaviours of pg-logical-replication 2.5.0 are worked around here, each seen on the local stack:
// - its timer would confirm the last *received* LSN; acknowledge.timeoutSeconds 0 turns it off, and
//   standby status updates are sent by us (on keepalive requests and every statusIntervalMs);
// - its flow control pauses the socket whenever it starts handling messages and resumes it only once its queue
//   is empty, so the walsender stopped at every turn; the stream's own queue (inbound-queue.ts) reads ahead up
//   to a bound instead (the library's socket is reached through its private `_connection`, as it does itself);
// - its acknowledge(lsn) reports lsn+1 as flushed. A commit record can start exactly where the previous
//   commit ended, and Postgres skips on restart every commit that starts before the confirmed position, so
//   lsn+1 could skip a transaction. confirm(lsn) therefore passes lsn-1, so that exactly lsn is reported.
import pg from 'pg';
import { LogicalReplicationService } from 'pg-logical-replication';
import { AbstractPlugin } from 'pg-logical-replication/dist/output-plugins/abstract.plugin.js';
import { decodePgoutput, rowChange, type PgoutputMessage } from './pgoutput.ts';
import { formatLsn, parseLsn } from '../../schemas/src/lsn.ts';
import { bounded } from '../../runtime/bounded.ts';
import { InboundQueue, type Pausable } from './inbound-queue.ts';

/** Session settings under which Postgres renders values the way schemas/src/pg-types.ts parses them. */
export const TEXT_RENDERING_OPTIONS =
  '-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=iso_8601 -c bytea_output=hex -c extra_float_digits=3';

/** A pgoutput message as the dispatcher gets it: row changes stay bytes (the encoder decodes them). */
export type DecodedMessage =
  | PgoutputMessage
  | { tag: 'change'; relationId: number; message: Buffer }
  | { tag: 'error'; error: Error };

class Plugin extends AbstractPlugin<{ publications: string[]; onReceive: () => void }> {
  get name(): string {
    return 'pgoutput';
  }
  parse(buffer: Buffer): DecodedMessage {
    this.options.onReceive();
    try {
      const change = rowChange(buffer);
      return change ? { tag: 'change', ...change } : decodePgoutput(buffer);
    } catch (error) {
      return { tag: 'error', error: error as Error };
    }
  }
  start(client: pg.Client, slotName: string, lastLsn: string): Promise<unknown> {
    const pubs = this.options.publications.join(',');
    return client.query(
      `START_REPLICATION SLOT "${slotName}" LOGICAL ${lastLsn} (proto_version '1', publication_names '${pubs}', messages 'true')`,
    );
  }
}

export interface StreamHandlers {
  /** Called for each message in WAL order, one at a time (the next waits for this promise). */
  onMessage(walLsn: bigint, msg: DecodedMessage): Promise<void>;
  /**
   * Called on a server keepalive. `walLsn` is the server's sent position. Returns the LSN to report as
   * flushed (the highest position whose changes are durably handled).
   */
  onKeepalive(walLsn: bigint): bigint;
}

export interface ReplicationStreamOptions {
  connection: pg.ClientConfig;
  slot: string;
  publications: string[];
  statusIntervalMs: number;
}

/** read ahead of the handler up to this much before the socket is paused (for ~2 KB rows about 4 MB) */
const INBOUND_LIMITS = { maxMessages: 2000, maxBytes: 8 << 20 };

export class ReplicationStream {
  private readonly opts: ReplicationStreamOptions;
  private service: LogicalReplicationService | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private confirmed = 0n;
  private aborted: Error | undefined;
  /** ends the current run() whether or not the library's subscribe() settles */
  private endRun: (() => void) | undefined;
  /** messages parsed off the socket, and messages whose handler has finished */
  received = 0;
  handled = 0;

  constructor(opts: ReplicationStreamOptions) {
    this.opts = opts;
  }

  /** Streams from `startLsn` until stop() or a connection error (rejects with it). */
  async run(startLsn: bigint, handlers: StreamHandlers): Promise<void> {
    this.confirmed = startLsn;
    this.aborted = undefined;
    this.received = 0;
    this.handled = 0;
    const service = new LogicalReplicationService(
      { ...this.opts.connection, options: [this.opts.connection.options, TEXT_RENDERING_OPTIONS].filter(Boolean).join(' ') },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } },
    );
    this.service = service;
    let failure: Error | undefined;
    const inbound = new InboundQueue<[string, DecodedMessage]>(
      async ([lsn, msg]) => {
        try {
          await handlers.onMessage(parseLsn(lsn), msg);
        } finally {
          this.handled++;
        }
      },
      // a failing handler ends the run, so that nothing after the failure can be acknowledged
      (err) => service.emit('error', err),
      () => (service as unknown as { _connection?: { stream?: Pausable } })._connection?.stream,
      INBOUND_LIMITS,
    );
    // node-postgres never settles the connect of a client ended while connecting, so a stop() in the moment the
    // stream (re)connects would leave subscribe() pending for ever (a stop right after start hung a CI run):
    // run() ends on stop(), abort() or an error whether or not subscribe() settles. What was read but not yet
    // handled is dropped then (nothing of it was acknowledged): no message of this run may reach the handlers
    // after it, when the connector may already stream again
    const ended = new Promise<void>((resolve) => (this.endRun = () => {
      inbound.close();
      resolve();
    }));
    service.on('data', (lsn: string, msg: DecodedMessage) => inbound.push([lsn, msg], msg.tag === 'change' ? msg.message.length : 64));
    service.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => {
      const durable = handlers.onKeepalive(parseLsn(lsn));
      if (shouldRespond || durable > this.confirmed) void this.confirm(durable);
    });
    service.on('error', (err: Error) => {
      failure ??= err;
      this.endRun?.();
      void service.stop();
    });
    this.statusTimer = setInterval(() => void this.confirm(this.confirmed), this.opts.statusIntervalMs);
    const plugin = new Plugin({ publications: this.opts.publications, onReceive: () => this.received++ });
    let settled = false;
    try {
      const subscribed = service.subscribe(plugin, this.opts.slot, formatLsn(startLsn));
      subscribed.then(() => (settled = true), () => (settled = true));
      await Promise.race([subscribed, ended]);
    } catch (err) {
      failure ??= err as Error;
    } finally {
      inbound.close();
      clearInterval(this.statusTimer);
      this.endRun = undefined;
      await bounded(service.destroy(), 5000);
      // stopped before the library created its client, it would still create one and stream: stop it again
      // until subscribe() settles (a client ended while connecting never lets it settle: 2 s is enough for that)
      for (let i = 0; i < 10 && !settled; i++) {
        await new Promise((r) => setTimeout(r, 200));
        await bounded(service.stop(), 1000);
      }
      this.service = undefined;
    }
    failure ??= this.aborted;
    if (failure) throw failure;
  }

  /** Ends the current run with `err` (run() rejects with it), e.g. when Kafka failed outside a handler. */
  abort(err: Error): void {
    this.aborted ??= err;
    this.endRun?.();
    void this.service?.stop();
  }

  /** Reports `lsn` as written, flushed and applied: the slot's confirmed_flush_lsn moves there. */
  async confirm(lsn: bigint): Promise<void> {
    if (lsn < this.confirmed) lsn = this.confirmed;
    this.confirmed = lsn;
    if (lsn === 0n || !this.service) return;
    await this.service.acknowledge(formatLsn(lsn - 1n)).catch(() => undefined);
  }

  /** The last LSN reported to the server. */
  get confirmedLsn(): bigint {
    return this.confirmed;
  }

  async stop(): Promise<void> {
    clearInterval(this.statusTimer);
    this.endRun?.();
    await bounded(this.service?.stop(), 5000);
  }
}
