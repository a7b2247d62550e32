// The Postgres source's side of the emitter: the replication stream's messages become jobs for the emitter,
// transaction ends become commits, and what the emitter reports durable is confirmed to the slot.
//
// Row changes are packed as they arrive (change-items.ts) and submitted in jobs of a few hundred, decoded on the
// encoder's thread (record-decoder.ts). A transaction's end LSN is its position: once the emitter says Kafka has
// it, it is confirmed to the slot. Nothing else moves the slot, except keepalives and heartbeat messages when
// nothing at all is outstanding.
import type pg from 'pg';
import type { DecodedMessage } from './replication-stream.ts';
import type { PgoutputMessage } from './pgoutput.ts';
import { TypeCatalog, tableInfo } from './catalog.ts';
import { ChangeItemsWriter } from './change-items.ts';
import { buildTable, type PostgresJob, type TableSource } from './record-decoder.ts';
import type { Tuple } from '../../emitter/encode/change-record.ts';
import type { Emitter } from '../../emitter/emitter.ts';
import type { EmittedTable } from '../../emitter/table-registry.ts';
import type { MappingOptions } from '../../schemas/src/pg-types.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';

export interface PgoutputHandlerOptions {
  mapping: MappingOptions;
  /** whether the encoder sends a tombstone after each delete (counted in the batch size) */
  tombstonesOnDelete: boolean;
  /** keys of tables configured explicitly (schema.table → columns); others use the primary key */
  keyColumns: Record<string, string[]>;
}

export interface PgoutputHandlerPorts {
  emitter: Emitter<bigint>;
  db: () => pg.ClientBase;
  /** true when no message was received beyond the `handling` ones being handled now */
  streamIdle: (handling?: number) => boolean;
  /** confirms a position to the slot */
  confirm: (lsn: bigint) => Promise<void>;
  /** a transaction ended (metrics) */
  transaction?: () => void;
}

export class PgoutputHandler {
  private readonly opts: PgoutputHandlerOptions;
  private readonly emitter: Emitter<bigint>;
  private readonly db: () => pg.ClientBase;
  private readonly streamIdle: (handling?: number) => boolean;
  private readonly ports: PgoutputHandlerPorts;
  private readonly catalog: TypeCatalog;
  /** relation id → table, as the stream's RELATION messages define them */
  private readonly tables = new Map<number, EmittedTable>();
  private inTransaction = false;
  /** row changes not yet submitted */
  private items = new ChangeItemsWriter();
  /** the position up to which everything is in Kafka (confirmed to the slot, or about to be) */
  durableLsn = 0n;

  constructor(opts: PgoutputHandlerOptions, ports: PgoutputHandlerPorts) {
    this.opts = opts;
    this.emitter = ports.emitter;
    this.db = ports.db;
    this.streamIdle = ports.streamIdle;
    this.ports = ports;
    this.catalog = new TypeCatalog(ports.db);
  }

  /** Starts a new stream segment from `durableLsn` (after a (re)connect): forget partial state. */
  reset(durableLsn: bigint): void {
    this.inTransaction = false;
    this.items = new ChangeItemsWriter();
    this.tables.clear(); // relation ids and columns are sent again after a reconnect
    this.durableLsn = durableLsn;
    this.emitter.reset();
  }

  /** Kafka has every event up to `lsn` (the emitter's word, or nothing outstanding): confirmed to the slot. */
  async confirmDurable(lsn: bigint): Promise<void> {
    if (lsn <= this.durableLsn) return;
    this.durableLsn = lsn;
    await this.ports.confirm(lsn);
  }

  /** Sends whatever is buffered (packed changes included); resolves once Kafka has it. */
  flush(): Promise<void> {
    return this.emitter.flush();
  }

  /** Counts stream segments: whoever buffered events before a reset knows they were dropped. */
  get generation(): number {
    return this.emitter.generation;
  }

  /** True when nothing received is waiting to be made durable. */
  get idle(): boolean {
    return !this.inTransaction && this.items.count === 0 && this.emitter.idle;
  }

  async onMessage(walLsn: bigint, decoded: DecodedMessage): Promise<void> {
    this.emitter.throwIfFailed();
    if (decoded.tag === 'error') throw decoded.error;
    if (decoded.tag === 'change') {
      // an INSERT, UPDATE or DELETE, decoded on the encoder's thread
      if (!this.inTransaction) throw new Error('change outside a transaction');
      const t = this.table(decoded.relationId);
      const events = decoded.message[0] === DELETE && this.opts.tombstonesOnDelete ? 2 : 1;
      const bytes = decoded.message.length + ENVELOPE_BYTES;
      this.items.change(t.ref, walLsn, decoded.message); // a large message moves to the pack: not used after this
      return this.added(events, bytes);
    }
    const msg: PgoutputMessage = decoded;
    switch (msg.tag) {
      case 'begin':
        this.inTransaction = true;
        this.items.begin(msg.finalLsn, msg.xid, msg.commitTimeUs);
        return;
      case 'relation':
        return this.onRelation(msg);
      case 'insert':
      case 'update':
      case 'delete':
        throw new Error(`a decoded ${msg.tag} reached the handler: row changes travel to the encoder undecoded`);
      case 'truncate':
        if (!this.inTransaction) throw new Error('change outside a transaction');
        for (const id of msg.relationIds) {
          this.items.truncate(this.table(id).ref, walLsn);
          await this.added(1, ENVELOPE_BYTES);
        }
        return;
      case 'commit':
        this.inTransaction = false;
        this.ports.transaction?.();
        return this.emitter.commit(msg.endLsn, msg.commitTimeUs);
      case 'message':
        // a non-transactional heartbeat message: with nothing outstanding, every commit before it is
        // durable, so its position can be confirmed (keeps an idle slot from pinning WAL)
        if (!msg.transactional && !this.inTransaction) await this.advanceIfIdle(walLsn);
        return;
      case 'origin':
      case 'type':
        return;
      case 'unknown':
        throw new TracelakeError(`unknown pgoutput message type ${msg.byte}`, {
          code: 'PROTOCOL', remedy: 'the connector speaks pgoutput protocol version 1; report this with the server version',
        });
    }
  }

  /** Called on a server keepalive; returns the position that may be reported as flushed. */
  onKeepalive(walLsn: bigint): bigint {
    if (this.streamIdle() && this.idle && walLsn > this.durableLsn) this.durableLsn = walLsn;
    return this.durableLsn;
  }

  private async advanceIfIdle(walLsn: bigint): Promise<void> {
    await this.emitter.flush();
    if (this.streamIdle(1) && this.idle) await this.confirmDurable(walLsn);
  }

  private added(events: number, bytes: number): Promise<void> {
    if (this.items.count >= JOB_ITEMS || this.items.bytes >= JOB_BYTES) this.drain();
    return this.emitter.add(events, bytes);
  }

  /** Submits the packed row changes (the encoder works on them while this thread reads on). */
  readonly drain = (): void => {
    if (this.items.count === 0) return;
    const { items, length, attached } = this.items.take();
    const job: PostgresJob = { kind: 'changes', items, length, attached };
    void this.emitter.submit({ payload: job, transfer: [items, ...attached] });
  };

  private table(relationId: number): EmittedTable {
    const t = this.tables.get(relationId);
    if (!t) throw new Error(`change for relation ${relationId} arrived before its RELATION message`);
    return t;
  }

  /**
   * Snapshot rows (op 'r') of a table, positioned at the snapshot's consistent point with sequence numbers
   * from `at.seq` on. Resolves once they are submitted and the batch is sent if full.
   */
  async read(t: EmittedTable, rows: Tuple[], at: { commitLsn: bigint; seq: bigint; commitTimeUs: bigint }): Promise<void> {
    let seq = at.seq;
    for (let i = 0; i < rows.length;) {
      this.emitter.throwIfFailed();
      const part = rows.slice(i, i + Math.min(JOB_ITEMS, this.emitter.room));
      this.drain(); // row changes before these rows stay before them
      const job: PostgresJob = { kind: 'rows', ref: t.ref, rows: part, commitLsn: at.commitLsn, seq, commitTimeUs: at.commitTimeUs };
      await this.emitter.submit({ payload: job }, part.length, part.reduce((n, row) => n + textBytes(row), 0));
      seq += BigInt(part.length);
      i += part.length;
    }
  }

  /** A RELATION message: (re)build the table's schema and register it before any event that uses it. */
  private async onRelation(msg: Extract<PgoutputMessage, { tag: 'relation' }>): Promise<void> {
    const qualified = `${msg.schema}.${msg.table}`;
    let keys = this.opts.keyColumns[qualified];
    if (!keys) {
      const info = await tableInfo(this.db(), msg.schema, msg.table);
      keys = info?.primaryKey ?? [];
    }
    const types = await this.catalog.resolve(msg.columns.map((c) => c.typeOid));
    const columns = msg.columns.map(({ name, typeOid, typeMod }) => ({ name, typeOid, typeMod }));
    this.tables.set(msg.relationId, await this.register({
      schema: msg.schema, table: msg.table, columns, keyColumns: keys, types: [...types.values()], mapping: this.opts.mapping,
    }));
  }

  /** A table as the emitter registers it: its schema, and the description the record decoder rebuilds it from. */
  register(source: TableSource): Promise<EmittedTable> {
    return this.emitter.tables.register({ schema: buildTable(source), description: source });
  }
}

function textBytes(row: Tuple): number {
  let n = ENVELOPE_BYTES;
  for (const v of row) if (typeof v === 'string') n += v.length;
  return n;
}

/** Row changes (or snapshot rows) per encode job, and bytes: small enough that the encoder starts early, large enough to be cheap to hand over. */
const JOB_ITEMS = 500;
const JOB_BYTES = 256 * 1024;
/** What the envelope (source block, op, key) adds to a row's size, roughly: the batch size is estimated before encoding. */
const ENVELOPE_BYTES = 160;
const DELETE = 0x44; // 'D'
