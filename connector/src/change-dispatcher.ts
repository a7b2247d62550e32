// Turns the decoded replication stream into Kafka messages and decides what may be acknowledged.
//
// Events are encoded and sent in batches as they arrive (a large transaction never sits in memory whole);
// a batch is sent when it is full, at the end of a transaction once `lingerMs` has passed, or by the timer.
// After a send succeeds, the end LSN of the last transaction whose every event was in it (or an earlier
// batch) becomes durable and is confirmed to the slot. Nothing else moves the slot, except keepalives
// when nothing at all is outstanding.
import type pg from 'pg';
import type { DecodedMessage } from './postgres/replication-stream.ts';
import { UNCHANGED_TOAST, type PgoutputMessage, type Tuple } from './decode/pgoutput.ts';
import { changeEvent, truncateEvent, type Position, type SourceContext } from './decode/change-event.ts';
import { buildTableSchema } from './table-schema.ts';
import { TypeCatalog, tableInfo } from './postgres/catalog.ts';
import { keySchema, topicName, valueSchema, type TableSchema } from '../../schemas/src/envelope.ts';
import { encodeWire, type RegisteredSchema, type SchemaRegistry } from '../../schemas/src/registry.ts';
import type { MappingOptions } from '../../schemas/src/pg-types.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import type { KafkaPublisher, OutMessage } from './kafka/publisher.ts';
import { fault } from '../../runtime/faults.ts';

export interface DispatcherOptions {
  topicPrefix: string;
  db: string;
  mapping: MappingOptions;
  /** emit a tombstone (null value) after each delete, for log compaction */
  tombstonesOnDelete: boolean;
  /** keys of tables configured explicitly (schema.table → columns); others use the primary key */
  keyColumns: Record<string, string[]>;
  maxBatchMessages: number;
  maxBatchBytes: number;
  lingerMs: number;
}

export interface CapturedTable {
  /** schema.table */
  name: string;
  schema: TableSchema;
  topic: string;
  key: RegisteredSchema;
  value: RegisteredSchema;
}

/** Hooks for metrics; every call is cheap and synchronous. */
export interface DispatchObserver {
  event(table: string, op: 'r' | 'c' | 'u' | 'd' | 't'): void;
  transaction(): void;
  /** Kafka acknowledged a batch; `commitTimeUs` is the commit time of its last complete transaction */
  acked(messages: number, commitTimeUs: bigint | null, durableLsn: bigint): void;
  inFlight(batches: number): void;
  backpressure(): void;
}

const noObserver: DispatchObserver = { event() {}, transaction() {}, acked() {}, inFlight() {}, backpressure() {} };

export class ChangeDispatcher {
  private readonly opts: DispatcherOptions;
  private readonly catalog: TypeCatalog;
  private readonly db: () => pg.ClientBase;
  private readonly registry: SchemaRegistry;
  private readonly publisher: KafkaPublisher;
  private readonly onDurable: (lsn: bigint) => Promise<void>;
  private readonly streamIdle: (handling?: number) => boolean;
  private readonly onFailure: (err: Error) => void;
  private readonly observer: DispatchObserver;
  /** events per captured table (schema.table) since the start */
  readonly tableEvents = new Map<string, number>();
  private readonly ctx: SourceContext;
  private readonly tables = new Map<number, CapturedTable>();

  private tx: { finalLsn: bigint; xid: bigint; commitTimeUs: bigint; seq: bigint } | null = null;
  private batch: OutMessage[] = [];
  private batchBytes = 0;
  /** end LSN of the last commit whose events are all in `batch` or sent before it */
  private batchCommitLsn: bigint | null = null;
  private batchCommitTimeUs: bigint | null = null;
  private sending: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private lastSendAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  durableLsn = 0n;
  /** counts reset() calls: whoever buffered events before a reset knows they were dropped */
  generation = 0;

  constructor(
    opts: DispatcherOptions, db: () => pg.ClientBase, registry: SchemaRegistry, publisher: KafkaPublisher,
    onDurable: (lsn: bigint) => Promise<void>,
    /** true when no message was received beyond the `handling` ones being handled now */
    streamIdle: (handling?: number) => boolean,
    onFailure: (err: Error) => void,
    observer: DispatchObserver = noObserver,
  ) {
    this.observer = observer;
    this.onFailure = onFailure;
    this.streamIdle = streamIdle;
    this.opts = opts;
    this.db = db;
    this.catalog = new TypeCatalog(db);
    this.registry = registry;
    this.publisher = publisher;
    this.onDurable = onDurable;
    this.ctx = { name: opts.topicPrefix, db: opts.db };
  }

  /** Starts a new stream segment from `durableLsn` (after a (re)connect): forget partial state. */
  reset(durableLsn: bigint): void {
    this.generation++;
    this.tx = null;
    this.batch = [];
    this.batchBytes = 0;
    this.batchCommitLsn = null;
    this.batchCommitTimeUs = null;
    this.tables.clear(); // relation ids and columns are sent again after a reconnect
    this.durableLsn = durableLsn;
    this.failure = undefined;
    // a failed send of the previous segment must not fail every send of this one (its rejection would
    // otherwise travel down the promise chain forever)
    this.sending = this.sending.catch(() => undefined);
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (this.batchCommitLsn !== null && Date.now() - this.lastSendAt >= this.opts.lingerMs) void this.flush().catch(() => undefined);
    }, Math.max(10, Math.floor(this.opts.lingerMs / 2)));
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** True when nothing received is waiting to be made durable. */
  get idle(): boolean {
    return this.tx === null && this.batch.length === 0 && this.inFlight === 0;
  }

  async onMessage(walLsn: bigint, decoded: DecodedMessage): Promise<void> {
    if (this.failure) throw this.failure;
    if (decoded.tag === 'error') throw decoded.error;
    const msg: PgoutputMessage = decoded;
    switch (msg.tag) {
      case 'begin':
        this.tx = { finalLsn: msg.finalLsn, xid: BigInt(msg.xid), commitTimeUs: msg.commitTimeUs, seq: 0n };
        return;
      case 'relation':
        return this.onRelation(msg);
      case 'insert':
        return this.add(this.table(msg.relationId), 'c', null, msg.newTuple, walLsn);
      case 'update': {
        const t = this.table(msg.relationId);
        const after = msg.oldKind === 'old' && msg.oldTuple ? fillUnchanged(msg.newTuple, msg.oldTuple) : msg.newTuple;
        if (msg.oldTuple && keyChanged(t.schema, msg.oldTuple, after)) {
          // a primary-key change is a delete of the old key and a create of the new one (as in Debezium)
          await this.add(t, 'd', msg.oldTuple, null, walLsn);
          return this.add(t, 'c', null, after, walLsn);
        }
        return this.add(t, 'u', msg.oldKind === 'old' ? msg.oldTuple : null, after, walLsn);
      }
      case 'delete':
        return this.add(this.table(msg.relationId), 'd', msg.oldTuple, null, walLsn);
      case 'truncate':
        for (const id of msg.relationIds) {
          const t = this.table(id);
          const envelope = truncateEvent(this.ctx, t.schema, this.position(walLsn), nowMs());
          this.push({ topic: t.topic, key: null, value: encodeWire(t.value, envelope) });
          this.count(t, 't');
        }
        return this.maybeFlush(false);
      case 'commit': {
        this.tx = null;
        this.batchCommitLsn = msg.endLsn;
        this.batchCommitTimeUs = msg.commitTimeUs;
        this.observer.transaction();
        return this.maybeFlush(true);
      }
      case 'message':
        // a non-transactional heartbeat message: with nothing outstanding, every commit before it is
        // durable, so its position can be confirmed (keeps an idle slot from pinning WAL)
        if (!msg.transactional && this.tx === null) await this.advanceIfIdle(walLsn);
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
    await this.flush();
    if (this.streamIdle(1) && this.idle && walLsn > this.durableLsn) {
      this.durableLsn = walLsn;
      await this.onDurable(walLsn);
    }
  }

  /** Sends whatever is buffered and confirms what that makes durable. */
  flush(): Promise<void> {
    const messages = this.batch;
    const commitLsn = this.batchCommitLsn;
    const commitTimeUs = this.batchCommitTimeUs;
    this.batch = [];
    this.batchBytes = 0;
    this.batchCommitLsn = null;
    this.batchCommitTimeUs = null;
    this.lastSendAt = Date.now();
    if (messages.length === 0 && commitLsn === null) return this.sending;
    this.inFlight++;
    this.observer.inFlight(this.inFlight);
    const previous = this.sending;
    this.sending = (async () => {
      try {
        // an earlier send failed: this batch goes with it (the stream reconnects and reads it again). Its
        // in-flight count must still drop — a `.then` would skip this whole body and leave the dispatcher
        // never idle again, so heartbeats would stop confirming the slot (found by the short chaos run)
        await previous;
        await this.publisher.send(messages);
        if (commitLsn !== null) fault('after-kafka-ack'); // Kafka has the events, the slot does not know yet
        if (commitLsn !== null && commitLsn > this.durableLsn) {
          this.durableLsn = commitLsn;
          await this.onDurable(commitLsn);
        }
        this.observer.acked(messages.length, commitTimeUs, this.durableLsn);
      } catch (err) {
        // the batches queued behind a failed send fail with it: the stream is ended once, for the first
        if (!this.failure) {
          this.failure = err as Error;
          this.onFailure(err as Error); // the stream may be idle: end it now rather than at the next message
        }
        throw err;
      } finally {
        this.inFlight--;
        this.observer.inFlight(this.inFlight);
      }
    })();
    return this.sending;
  }

  /**
   * Starts sending the batch when it is full, or at a commit once `lingerMs` passed. Decoding goes on while
   * a send is in flight; with `maxInFlight` sends queued, it waits (backpressure, bounded memory).
   */
  private async maybeFlush(atCommit: boolean): Promise<void> {
    const full = this.batch.length >= this.opts.maxBatchMessages || this.batchBytes >= this.opts.maxBatchBytes;
    const lingered = atCommit && Date.now() - this.lastSendAt >= this.opts.lingerMs;
    if (!full && !lingered) return;
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.observer.backpressure();
      await this.sending;
    }
    this.flush().catch(() => undefined); // a failure is kept in this.failure and stops the stream at the next message
  }

  private table(relationId: number): CapturedTable {
    const t = this.tables.get(relationId);
    if (!t) throw new Error(`change for relation ${relationId} arrived before its RELATION message`);
    return t;
  }

  private position(walLsn: bigint | null): Position {
    if (!this.tx) throw new Error('change outside a transaction');
    return {
      commitLsn: this.tx.finalLsn, seq: this.tx.seq++, lsn: walLsn, txId: this.tx.xid,
      commitTimeUs: this.tx.commitTimeUs, snapshot: 'false',
    };
  }

  /** A snapshot row (op 'r'), positioned at the snapshot's consistent point. */
  async read(t: CapturedTable, tuple: Tuple, pos: Position): Promise<void> {
    const ev = changeEvent(this.ctx, t.schema, 'r', null, tuple, pos, nowMs());
    this.push({ topic: t.topic, key: encodeWire(t.key, ev.key), value: encodeWire(t.value, ev.envelope) });
    this.count(t, 'r');
    await this.maybeFlush(false);
  }

  private async add(t: CapturedTable, op: 'c' | 'u' | 'd', before: Tuple | null, after: Tuple | null, walLsn: bigint): Promise<void> {
    const ev = changeEvent(this.ctx, t.schema, op, before, after, this.position(walLsn), nowMs());
    const key = encodeWire(t.key, ev.key);
    this.push({ topic: t.topic, key, value: encodeWire(t.value, ev.envelope) });
    this.count(t, op);
    if (op === 'd' && this.opts.tombstonesOnDelete) this.push({ topic: t.topic, key, value: null });
    await this.maybeFlush(false);
  }

  private count(t: CapturedTable, op: 'r' | 'c' | 'u' | 'd' | 't'): void {
    this.tableEvents.set(t.name, (this.tableEvents.get(t.name) ?? 0) + 1);
    this.observer.event(t.name, op);
  }

  private push(m: OutMessage): void {
    this.batch.push(m);
    this.batchBytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
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
    const schema = buildTableSchema(msg.schema, msg.table, msg.columns, keys, types, this.opts.mapping);
    this.tables.set(msg.relationId, await this.register(schema));
  }

  async register(schema: TableSchema): Promise<CapturedTable> {
    const topic = topicName(this.opts.topicPrefix, schema.schema, schema.table);
    await this.publisher.ensureTopic(topic);
    const key = await this.registry.register(`${topic}-key`, keySchema(this.opts.topicPrefix, schema));
    const value = await this.registry.register(`${topic}-value`, valueSchema(this.opts.topicPrefix, schema));
    return { name: `${schema.schema}.${schema.table}`, schema, topic, key, value };
  }
}

/** With REPLICA IDENTITY FULL the old row carries the values an UPDATE left TOASTed and unchanged. */
function fillUnchanged(newTuple: Tuple, oldTuple: Tuple): Tuple {
  return newTuple.map((v, i) => (v === UNCHANGED_TOAST && oldTuple[i] !== UNCHANGED_TOAST ? (oldTuple[i] ?? null) : v));
}

function keyChanged(t: TableSchema, oldTuple: Tuple, newTuple: Tuple): boolean {
  return t.columns.some((c, i) => c.isKey && oldTuple[i] !== null && oldTuple[i] !== newTuple[i]);
}

/** Batches sent or queued for sending while decoding continues. */
const MAX_IN_FLIGHT = 2;

function nowMs(): bigint {
  return BigInt(Date.now());
}
