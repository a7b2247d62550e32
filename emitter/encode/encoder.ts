// Where the event encoder (event-encoder.ts) and the source's record decoder run: on a worker thread, so that
// decoding and Avro encoding use a core of their own while the event loop reads the source and talks to Kafka
// (the connector was bound by its one JavaScript thread, docs/benchmarks.md), or inline on the event loop
// (encoder.workerThread false). Either way jobs complete in the order they were given.
import { Worker } from 'node:worker_threads';
import { EventEncoder, type EncoderSettings, type TableDefinition } from './event-encoder.ts';
import type { EncodedBatch } from './encoded-output.ts';
import type { RecordDecoder, SourceJob } from './change-record.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';

export interface Encoder {
  /** Makes a table ref known to the jobs given after this call. */
  define(def: TableDefinition): void;
  /** Forgets a transaction cut short (a new stream segment starts). */
  reset(): void;
  /** Encodes a job; the buffers it names in `transfer` are handed over and must not be used again. */
  encode(job: SourceJob): Promise<EncodedBatch>;
  close(): Promise<void>;
}

export async function createEncoder(settings: EncoderSettings, opts: { workerThread: boolean }): Promise<Encoder> {
  return opts.workerThread ? new ThreadEncoder(settings) : new InlineEncoder(settings, await loadRecordDecoder(settings.decoder));
}

/** The source's record decoder, from the module named in the settings (on whichever thread encodes). */
export async function loadRecordDecoder(module: string): Promise<RecordDecoder> {
  const m = (await import(module)) as { createRecordDecoder?: () => RecordDecoder };
  if (typeof m.createRecordDecoder !== 'function') throw new Error(`${module} exports no createRecordDecoder()`);
  return m.createRecordDecoder();
}

export class InlineEncoder implements Encoder {
  private readonly core: EventEncoder;
  constructor(settings: EncoderSettings, decoder: RecordDecoder) {
    this.core = new EventEncoder(settings, decoder);
  }
  define(def: TableDefinition): void {
    this.core.define(def);
  }
  reset(): void {
    this.core.reset();
  }
  encode(job: SourceJob): Promise<EncodedBatch> {
    try {
      return Promise.resolve(this.core.encode(job.payload));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
  async close(): Promise<void> {}
}

/** What the worker posts back for a job. */
export type WorkerReply =
  | { id: number; batch: EncodedBatch }
  | { id: number; error: SerializedError };

export interface SerializedError {
  message: string;
  code?: string;
  remedy?: string;
  retriable?: boolean;
}

/** What the worker is sent. */
export type WorkerRequest =
  | { type: 'define'; def: TableDefinition }
  | { type: 'reset' }
  | { type: 'encode'; id: number; job: unknown };

export function serializeError(err: unknown): SerializedError {
  const e = err as Partial<TracelakeError>;
  return { message: e.message ?? String(err), code: e.code, remedy: e.remedy, retriable: e.retriable };
}

/** The error as it was thrown in the worker: a TracelakeError keeps its code and remedy. */
export function deserializeError(e: SerializedError): Error {
  return e.code && e.remedy ? new TracelakeError(e.message, { code: e.code, remedy: e.remedy, retriable: e.retriable }) : new Error(e.message);
}

export class ThreadEncoder implements Encoder {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (b: EncodedBatch) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private broken: Error | undefined;

  constructor(settings: EncoderSettings) {
    this.worker = new Worker(new URL('./encode-worker.ts', import.meta.url), { workerData: settings });
    this.worker.unref(); // the connector's own handles keep the process alive, not an idle encoder
    this.worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('batch' in reply) p.resolve(reply.batch);
      else p.reject(deserializeError(reply.error));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the encoder thread exited (code ${code})`)));
  }

  define(def: TableDefinition): void {
    this.post({ type: 'define', def });
  }

  reset(): void {
    this.post({ type: 'reset' });
  }

  encode(job: SourceJob): Promise<EncodedBatch> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    const done = new Promise<EncodedBatch>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.post({ type: 'encode', id, job: job.payload }, job.transfer ?? []);
    return done;
  }

  async close(): Promise<void> {
    this.broken ??= new Error('the encoder was closed');
    await this.worker.terminate();
  }

  private post(msg: WorkerRequest, transfer: ArrayBuffer[] = []): void {
    if (!this.broken) this.worker.postMessage(msg, transfer);
  }

  private fail(err: Error): void {
    if (!this.broken) {
      this.broken = new TracelakeError(`the encoder thread failed: ${err.message}`, {
        code: 'ENCODER_FAILED', cause: err, remedy: 'a bug, or the thread ran out of memory: report it with the log. Restarted, the connector resumes from the slot (nothing unacknowledged is lost); encoder.workerThread false encodes on the main thread instead',
      });
    }
    for (const p of this.pending.values()) p.reject(this.broken);
    this.pending.clear();
  }
}
