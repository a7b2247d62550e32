// The source-neutral half of the connector: what a source hands over becomes Kafka messages, and a source
// position becomes durable only once Kafka has every event before it (docs/architecture.md).
//
// A source registers its tables (table-registry.ts: topic, Avro schemas, the encoder told), submits jobs (encoded
// on the encoder's thread while the source reads on) and marks commits — positions at which everything
// submitted so far forms a consistent whole. Events are sent in batches (a large transaction never sits in
// memory whole): a batch is sent when full, at a commit once `lingerMs` has passed, or by the timer. After a
// send succeeds, the last commit whose every event was in it (or an earlier batch) is handed back to the source
// (`onDurable`), in order — the only way a source learns it may acknowledge a position.
import { DEAD_LETTER, INDEX_STRIDE, OPS, type EncodedBatch } from './encode/encoded-output.ts';

const TRUNCATE = OPS.indexOf('t');
import type { SourceJob } from './encode/change-record.ts';
import type { Encoder } from './encode/encoder.ts';
import type { KafkaPublisher, OutMessage } from './kafka/publisher.ts';
import { TableRegistry } from './table-registry.ts';
import type { Op } from '../schemas/src/envelope.ts';
import type { SchemaRegistry } from '../schemas/src/registry.ts';
import { fault } from '../runtime/faults.ts';

export interface EmitterOptions {
  topicPrefix: string;
  maxBatchMessages: number;
  maxBatchBytes: number;
  lingerMs: number;
  /** where rows past the size ceiling go when their table's choice is dead-letter */
  deadLetterTopic: string;
}

/** Hooks for metrics; every call is cheap and synchronous. */
export interface EmitObserver<P> {
  event(table: string, op: Op): void;
  /** Kafka acknowledged a batch; `commitTimeUs` is the commit time of its last complete commit, `durable` that commit */
  acked(messages: number, commitTimeUs: bigint | null, durable: P | null): void;
  inFlight(batches: number): void;
  backpressure(): void;
  /** a row past the size ceiling went to the dead-letter topic instead of its change */
  deadLettered(table: string): void;
}

export interface EmitterPorts<P> {
  registry: Pick<SchemaRegistry, 'register'>;
  publisher: Pick<KafkaPublisher, 'ensureTopics' | 'send'>;
  encoder: Encoder;
  /** a commit is in Kafka with everything before it (called in commit order; awaited before the next send ends) */
  onDurable: (position: P) => Promise<void>;
  /** the first failure of a stream segment: the source stops reading (it may be idle, so not only at its next call) */
  onFailure: (err: Error) => void;
  /** what the source has packed and not yet submitted: submitted now, before a batch is cut */
  drain?: () => void;
  observer?: EmitObserver<P>;
}

const noObserver: EmitObserver<unknown> = { event() {}, acked() {}, inFlight() {}, backpressure() {}, deadLettered() {} };

export class Emitter<P> {
  private readonly opts: EmitterOptions;
  private readonly ports: EmitterPorts<P>;
  private readonly observer: EmitObserver<P>;
  /** events per table (schema.table) since the start */
  readonly tableEvents = new Map<string, number>();
  /** the tables this emitter sends for (topics, registered schemas, encoder refs) */
  readonly tables: TableRegistry;

  /** the batch: its encode jobs in order, and its size in events and (estimated) bytes */
  private jobs: Array<Promise<EncodedBatch>> = [];
  private batchEvents = 0;
  private batchBytes = 0;
  /** the last commit whose events are all in the batch or sent before it */
  private batchCommit: { position: P; commitTimeUs: bigint | null } | null = null;
  private sending: Promise<void> = Promise.resolve();
  /** the sends in flight, oldest first (each waits for the one before it, so they end in this order) */
  private readonly sends: Promise<void>[] = [];
  private inFlight = 0;
  private lastSendAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  /** counts reset() calls: whoever buffered events before a reset knows they were dropped */
  generation = 0;

  constructor(opts: EmitterOptions, ports: EmitterPorts<P>) {
    this.opts = opts;
    this.ports = ports;
    this.observer = ports.observer ?? (noObserver as EmitObserver<P>);
    this.tables = new TableRegistry(opts.topicPrefix, ports.registry, ports.publisher, ports.encoder);
  }

  /** Starts a new stream segment (after a (re)connect): what was buffered is dropped (the source reads it again). */
  reset(): void {
    this.generation++;
    this.jobs = [];
    this.batchEvents = 0;
    this.batchBytes = 0;
    this.batchCommit = null;
    this.ports.encoder.reset();
    this.failure = undefined;
    // a failed send of the previous segment must not fail every send of this one (its rejection would
    // otherwise travel down the promise chain forever)
    this.sending = this.sending.catch(() => undefined);
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (this.batchCommit !== null && Date.now() - this.lastSendAt >= this.opts.lingerMs) void this.flush().catch(() => undefined);
    }, Math.max(10, Math.floor(this.opts.lingerMs / 2)));
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Nothing submitted is waiting to be sent or acknowledged. */
  get idle(): boolean {
    return this.jobs.length === 0 && this.inFlight === 0;
  }

  /** The first failure of this segment (a send, or a job the encoder refused). */
  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Events the current batch has room for. */
  get room(): number {
    return Math.max(1, this.opts.maxBatchMessages - this.batchEvents);
  }

  /**
   * Counts events the source has packed but not submitted yet; they are part of the batch (its size decides
   * when it is cut). Resolves at once, or after waiting for room when too many batches are in flight.
   */
  add(events: number, bytes: number): Promise<void> {
    this.batchEvents += events;
    this.batchBytes += bytes;
    return this.maybeFlush(false);
  }

  /** Hands a job to the encoder (its events counted by add() before, or now by `events`/`bytes`). */
  submit(job: SourceJob, events = 0, bytes = 0): Promise<void> {
    const generation = this.generation;
    const done = this.ports.encoder.encode(job);
    // a value that cannot be converted ends the stream as soon as the encoder says so
    done.catch((err: Error) => { if (generation === this.generation) this.fail(err); });
    this.jobs.push(done);
    return events > 0 || bytes > 0 ? this.add(events, bytes) : Promise.resolve();
  }

  /** Everything submitted so far forms a consistent whole at `position`: durable once it is all in Kafka. */
  commit(position: P, commitTimeUs: bigint | null): Promise<void> {
    this.batchCommit = { position, commitTimeUs };
    return this.maybeFlush(true);
  }

  /** Sends whatever is buffered and hands back the commit that makes durable. */
  flush(): Promise<void> {
    this.ports.drain?.();
    const jobs = this.jobs;
    const commit = this.batchCommit;
    this.jobs = [];
    this.batchEvents = 0;
    this.batchBytes = 0;
    this.batchCommit = null;
    this.lastSendAt = Date.now();
    if (jobs.length === 0 && commit === null) return this.sending;
    this.inFlight++;
    this.observer.inFlight(this.inFlight);
    const previous = this.sending;
    const generation = this.generation;
    this.sending = (async () => {
      try {
        // an earlier send failed: this batch goes with it (the source reads it again). Its in-flight count must
        // still drop — a `.then` would skip this whole body and leave the emitter never idle again, so
        // heartbeats would stop confirming the slot (found by the short chaos run)
        await previous;
        const messages = this.messages(await Promise.all(jobs));
        // one partition's share of a send is one Kafka record batch: keep each send within maxBatchBytes
        for (const part of bySize(messages, this.opts.maxBatchBytes)) await this.ports.publisher.send(part);
        if (commit !== null) {
          fault('after-kafka-ack'); // Kafka has the events, the source does not know yet
          await this.ports.onDurable(commit.position);
        }
        this.observer.acked(messages.length, commit?.commitTimeUs ?? null, commit?.position ?? null);
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

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.ports.onFailure(err);
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

  /** The encoded jobs as Kafka messages, in order; counts their events. */
  private messages(batches: EncodedBatch[]): OutMessage[] {
    const out: OutMessage[] = [];
    for (const { bytes, index } of batches) {
      const buf = Buffer.from(bytes);
      for (let i = 0; i < index.length; i += INDEX_STRIDE) {
        const t = this.tables.get(index[i]!);
        const op = index[i + 1]!;
        const keyLen = index[i + 3]!;
        const valueLen = index[i + 5]!;
        out.push({
          topic: op === DEAD_LETTER ? this.opts.deadLetterTopic : t.topic,
          key: keyLen < 0 ? null : buf.subarray(index[i + 2]!, index[i + 2]! + keyLen),
          value: valueLen < 0 ? null : buf.subarray(index[i + 4]!, index[i + 4]! + valueLen),
          ...(op === TRUNCATE ? { everyPartition: true } : {}),
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

/**
 * Batches sent or queued for sending while reading continues. A batch in flight may still be encoding on the
 * worker thread, so it takes more than two to keep both the encoder and Kafka busy: 2 → 4 raised a small-row
 * stream from 38k to 44k ev/s (docs/benchmarks.md); 8 brought nothing more.
 */
const MAX_IN_FLIGHT = 4;
