// Turns the replication stream into Kafka messages and decides what may be acknowledged.
//
// Row changes are packed as they arrive and handed to the encoder (encode/encoder.ts: a worker thread by
// default) in jobs of a few hundred, so decoding and Avro encoding go on while this thread reads the stream
// and sends to Kafka. Events are sent in batches (a large transaction never sits in memory whole); a batch is
// sent when it is full, at the end of a transaction once `lingerMs` has passed, or by the timer. After a send
// succeeds, the end LSN of the last transaction whose every event was in it (or an earlier batch) becomes
// durable and is confirmed to the slot. Nothing else moves the slot, except keepalives when nothing at all is
// outstanding.
import type pg from 'pg';
import type { DecodedMessage } from '../sources/postgres/replication-stream.ts';
import type { PgoutputMessage, Tuple } from '../sources/postgres/pgoutput.ts';
import { TypeCatalog, tableInfo } from '../sources/postgres/catalog.ts';
import { ChangeItemsWriter } from '../sources/postgres/change-items.ts';
import { buildTable, DEAD_LETTER, INDEX_STRIDE, OPS, type EncodedBatch, type EncodeJob, type TableSource } from './encode/event-encoder.ts';
import type { Encoder } from './encode/encoder.ts';
import { keySchema, topicName, valueSchema, type TableSchema } from '../schemas/src/envelope.ts';
import type { SchemaRegistry } from '../schemas/src/registry.ts';
import type { RegisteredSchema } from '../schemas/src/wire-format.ts';
import type { MappingOptions } from '../schemas/src/pg-types.ts';
import { TracelakeError } from '../schemas/src/errors.ts';
import type { KafkaPublisher, OutMessage } from './kafka/publisher.ts';
import { fault } from '../runtime/faults.ts';

export interface DispatcherOptions {
  topicPrefix: string;
  mapping: MappingOptions;
  /** whether the encoder sends a tombstone after each delete (counted in the batch size) */
  tombstonesOnDelete: boolean;
  /** keys of tables configured explicitly (schema.table → columns); others use the primary key */
  keyColumns: Record<string, string[]>;
  maxBatchMessages: number;
  maxBatchBytes: number;
  lingerMs: number;
  /** where rows past the size ceiling go when their table's choice is dead-letter */
  deadLetterTopic: string;
}

export interface CapturedTable {
  /** how the encoder knows this table (a schema change makes a new one) */
  ref: number;
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
  /** a row past the size ceiling went to the dead-letter topic instead of its change */
  deadLettered(table: string): void;
}

const noObserver: DispatchObserver = { event() {}, transaction() {}, acked() {}, inFlight() {}, backpressure() {}, deadLettered() {} };

export class ChangeDispatcher {
  private readonly opts: DispatcherOptions;
  private readonly catalog: TypeCatalog;
  private readonly db: () => pg.ClientBase;
  private readonly registry: SchemaRegistry;
  private readonly publisher: KafkaPublisher;
  private readonly encoder: Encoder;
  private readonly onDurable: (lsn: bigint) => Promise<void>;
  private readonly streamIdle: (handling?: number) => boolean;
  private readonly onFailure: (err: Error) => void;
  private readonly observer: DispatchObserver;
  /** events per captured table (schema.table) since the start */
  readonly tableEvents = new Map<string, number>();
  /** relation id → table, as the stream's RELATION messages define them */
  private readonly tables = new Map<number, CapturedTable>();
  /** every table the encoder knows, by ref and by what it was built from (registered again unchanged, it keeps its ref) */
  private readonly byRef = new Map<number, CapturedTable>();
  private readonly bySource = new Map<string, CapturedTable>();
  private nextRef = 1;

  private inTransaction = false;
  /** row changes not yet handed to the encoder */
  private items = new ChangeItemsWriter();
  /** the batch: its encode jobs in order, and its size in events and (estimated) bytes */
  private jobs: Array<Promise<EncodedBatch>> = [];
  private batchEvents = 0;
  private batchBytes = 0;
  /** end LSN of the last commit whose events are all in the batch or sent before it */
  private batchCommitLsn: bigint | null = null;
  private batchCommitTimeUs: bigint | null = null;
  private sending: Promise<void> = Promise.resolve();
  /** the sends in flight, oldest first (each waits for the one before it, so they end in this order) */
  private readonly sends: Promise<void>[] = [];
  private inFlight = 0;
  private lastSendAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  durableLsn = 0n;
  /** counts reset() calls: whoever buffered events before a reset knows they were dropped */
  generation = 0;

  constructor(
    opts: DispatcherOptions, db: () => pg.ClientBase, registry: SchemaRegistry, publisher: KafkaPublisher, encoder: Encoder,
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
    this.encoder = encoder;
    this.onDurable = onDurable;
  }

  /** Starts a new stream segment from `durableLsn` (after a (re)connect): forget partial state. */
  reset(durableLsn: bigint): void {
    this.generation++;
    this.inTransaction = false;
    this.items = new ChangeItemsWriter();
    this.jobs = [];
    this.batchEvents = 0;
    this.batchBytes = 0;
    this.batchCommitLsn = null;
    this.batchCommitTimeUs = null;
    this.tables.clear(); // relation ids and columns are sent again after a reconnect
    this.encoder.reset();
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
    return !this.inTransaction && this.items.count === 0 && this.jobs.length === 0 && this.inFlight === 0;
  }

  async onMessage(walLsn: bigint, decoded: DecodedMessage): Promise<void> {
    if (this.failure) throw this.failure;
    if (decoded.tag === 'error') throw decoded.error;
    if (decoded.tag === 'change') {
      // an INSERT, UPDATE or DELETE, decoded by the encoder
      if (!this.inTransaction) throw new Error('change outside a transaction');
      const t = this.table(decoded.relationId);
      this.items.change(t.ref, walLsn, decoded.message);
      this.added(decoded.message[0] === DELETE && this.opts.tombstonesOnDelete ? 2 : 1, decoded.message.length + ENVELOPE_BYTES);
      return this.maybeFlush(false);
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
        throw new Error(`a decoded ${msg.tag} reached the dispatcher: row changes travel to the encoder undecoded`);
      case 'truncate':
        if (!this.inTransaction) throw new Error('change outside a transaction');
        for (const id of msg.relationIds) {
          this.items.truncate(this.table(id).ref, walLsn);
          this.added(1, ENVELOPE_BYTES);
        }
        return this.maybeFlush(false);
      case 'commit': {
        this.inTransaction = false;
        this.batchCommitLsn = msg.endLsn;
        this.batchCommitTimeUs = msg.commitTimeUs;
        this.observer.transaction();
        return this.maybeFlush(true);
      }
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
    await this.flush();
    if (this.streamIdle(1) && this.idle && walLsn > this.durableLsn) {
      this.durableLsn = walLsn;
      await this.onDurable(walLsn);
    }
  }

  /** Sends whatever is buffered and confirms what that makes durable. */
  flush(): Promise<void> {
    this.handOver();
    const jobs = this.jobs;
    const commitLsn = this.batchCommitLsn;
    const commitTimeUs = this.batchCommitTimeUs;
    this.jobs = [];
    this.batchEvents = 0;
    this.batchBytes = 0;
    this.batchCommitLsn = null;
    this.batchCommitTimeUs = null;
    this.lastSendAt = Date.now();
    if (jobs.length === 0 && commitLsn === null) return this.sending;
    this.inFlight++;
    this.observer.inFlight(this.inFlight);
    const previous = this.sending;
    const generation = this.generation;
    this.sending = (async () => {
      try {
        // an earlier send failed: this batch goes with it (the stream reconnects and reads it again). Its
        // in-flight count must still drop — a `.then` would skip this whole body and leave the dispatcher
        // never idle again, so heartbeats would stop confirming the slot (found by the short chaos run)
        await previous;
        const messages = this.messages(await Promise.all(jobs));
        // one partition's share of a send is one Kafka record batch: keep each send within maxBatchBytes
        for (const part of bySize(messages, this.opts.maxBatchBytes)) await this.publisher.send(part);
        if (commitLsn !== null) fault('after-kafka-ack'); // Kafka has the events, the slot does not know yet
        if (commitLsn !== null && commitLsn > this.durableLsn) {
          this.durableLsn = commitLsn;
          await this.onDurable(commitLsn);
        }
        this.observer.acked(messages.length, commitTimeUs, this.durableLsn);
      } catch (err) {
        // the batches queued behind a failed send fail with it: the stream is ended once, for the first
        if (generation === this.generation) this.fail(err as Error);
        throw err;
      } finally {
        this.sends.shift();
        this.inFlight--;
        this.observer.inFlight(this.inFlight);
      }
    })();
    this.sends.push(this.sending);
    return this.sending;
  }

  /** The first failure of this stream segment ends it (the stream may be idle: now rather than at the next message). */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.onFailure(err);
  }

  /**
   * Starts sending the batch when it is full, or at a commit once `lingerMs` passed. Reading goes on while
   * batches are in flight; with MAX_IN_FLIGHT of them queued, it waits (backpressure, bounded memory).
   */
  private async maybeFlush(atCommit: boolean): Promise<void> {
    const full = this.batchEvents >= this.opts.maxBatchMessages || this.batchBytes >= this.opts.maxBatchBytes;
    const lingered = atCommit && Date.now() - this.lastSendAt >= this.opts.lingerMs;
    if (!full && !lingered) return;
    if (this.inFlight >= MAX_IN_FLIGHT) {
      // wait for the oldest send only: the others stay in flight (waiting for the newest drained all of them)
      this.observer.backpressure();
      while (this.inFlight >= MAX_IN_FLIGHT) await this.sends[0]!;
    }
    this.flush().catch(() => undefined); // a failure is kept in this.failure and stops the stream at the next message
  }

  private added(events: number, bytes: number): void {
    this.batchEvents += events;
    this.batchBytes += bytes;
    if (this.items.count >= JOB_ITEMS || this.items.bytes >= JOB_BYTES) this.handOver();
  }

  /** Hands the packed row changes to the encoder (it works on them while this thread reads on). */
  private handOver(): void {
    if (this.items.count === 0) return;
    const { items, length } = this.items.take();
    this.encode({ kind: 'changes', items, length });
  }

  private encode(job: EncodeJob): void {
    const generation = this.generation;
    const done = this.encoder.encode(job);
    // a value that cannot be converted ends the stream as soon as the encoder says so
    done.catch((err: Error) => { if (generation === this.generation) this.fail(err); });
    this.jobs.push(done);
  }

  /** The encoded jobs as Kafka messages, in order; counts their events. */
  private messages(batches: EncodedBatch[]): OutMessage[] {
    const out: OutMessage[] = [];
    for (const { bytes, index } of batches) {
      const buf = Buffer.from(bytes);
      for (let i = 0; i < index.length; i += INDEX_STRIDE) {
        const t = this.byRef.get(index[i]!)!;
        const op = index[i + 1]!;
        const keyLen = index[i + 3]!;
        const valueLen = index[i + 5]!;
        out.push({
          topic: op === DEAD_LETTER ? this.opts.deadLetterTopic : t.topic,
          key: keyLen < 0 ? null : buf.subarray(index[i + 2]!, index[i + 2]! + keyLen),
          value: valueLen < 0 ? null : buf.subarray(index[i + 4]!, index[i + 4]! + valueLen),
        });
        if (op >= 0) {
          this.tableEvents.set(t.name, (this.tableEvents.get(t.name) ?? 0) + 1);
          this.observer.event(t.name, OPS[op]!);
        } else if (op === DEAD_LETTER) {
          this.observer.deadLettered(t.name);
        }
      }
    }
    return out;
  }

  private table(relationId: number): CapturedTable {
    const t = this.tables.get(relationId);
    if (!t) throw new Error(`change for relation ${relationId} arrived before its RELATION message`);
    return t;
  }

  /**
   * Snapshot rows (op 'r') of a table, positioned at the snapshot's consistent point with sequence numbers
   * from `at.seq` on. Resolves once they are handed to the encoder and the batch is sent if full.
   */
  async read(t: CapturedTable, rows: Tuple[], at: { commitLsn: bigint; seq: bigint; commitTimeUs: bigint }): Promise<void> {
    let seq = at.seq;
    for (let i = 0; i < rows.length;) {
      if (this.failure) throw this.failure;
      const part = rows.slice(i, i + Math.min(JOB_ITEMS, Math.max(1, this.opts.maxBatchMessages - this.batchEvents)));
      this.handOver(); // row changes before these rows stay before them
      this.encode({ kind: 'rows', ref: t.ref, rows: part, commitLsn: at.commitLsn, seq, commitTimeUs: at.commitTimeUs });
      this.batchEvents += part.length;
      this.batchBytes += part.reduce((n, row) => n + textBytes(row), 0);
      seq += BigInt(part.length);
      i += part.length;
      await this.maybeFlush(false);
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

  /** Builds a table's schema, makes sure its topic exists and its schemas are registered, and tells the encoder. */
  async register(source: TableSource): Promise<CapturedTable> {
    const schema: TableSchema = buildTable(source);
    const topic = topicName(this.opts.topicPrefix, schema.schema, schema.table);
    await this.publisher.ensureTopic(topic);
    const keyAvro = keySchema(this.opts.topicPrefix, schema);
    const valueAvro = valueSchema(this.opts.topicPrefix, schema);
    const key = await this.registry.register(`${topic}-key`, keyAvro);
    const value = await this.registry.register(`${topic}-value`, valueAvro);
    const identity = JSON.stringify([source, key.id, value.id]);
    let t = this.bySource.get(identity);
    if (!t) {
      t = { ref: this.nextRef++, name: `${schema.schema}.${schema.table}`, schema, topic, key, value };
      this.bySource.set(identity, t);
      this.byRef.set(t.ref, t);
      this.encoder.define({ ref: t.ref, source, keyId: key.id, keySchema: keyAvro, valueId: value.id, valueSchema: valueAvro });
    }
    return t;
  }
}

/** Consecutive runs of messages of at most `maxBytes` (keys and values) each; a larger message goes alone. */
export function bySize(messages: OutMessage[], maxBytes: number): OutMessage[][] {
  const parts: OutMessage[][] = [];
  let part: OutMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = (m.key?.length ?? 0) + (m.value?.length ?? 0);
    if (part.length > 0 && bytes + size > maxBytes) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(m);
    bytes += size;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

function textBytes(row: Tuple): number {
  let n = ENVELOPE_BYTES;
  for (const v of row) if (typeof v === 'string') n += v.length;
  return n;
}

/**
 * Batches sent or queued for sending while reading continues. A batch in flight may still be encoding on the
 * worker thread, so it takes more than two to keep both the encoder and Kafka busy: 2 → 4 raised a small-row
 * stream from 38k to 44k ev/s (docs/benchmarks.md); 8 brought nothing more.
 */
const MAX_IN_FLIGHT = 4;
/** Row changes (or snapshot rows) per encode job, and bytes: small enough that the encoder starts early, large enough to be cheap to hand over. */
const JOB_ITEMS = 500;
const JOB_BYTES = 256 * 1024;
/** What the envelope (source block, op, key) adds to a row's size, roughly: the batch size is estimated before encoding. */
const ENVELOPE_BYTES = 160;
const DELETE = 0x44; // 'D'
