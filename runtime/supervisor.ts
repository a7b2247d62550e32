// The lifecycle of one pipeline inside a service process, with Kafka Connect's states: the worker (a
// Connector or a Sink) is created, paused, resumed, stopped and restarted on request while the process
// keeps serving REST; a failure leaves it FAILED with a trace (or ends the process, by failurePolicy).
import type { Logger } from 'pino';
import { TracelakeError } from '../schemas/src/errors.ts';

export type PipelineState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'RESTARTING';

export interface TableStatus {
  table: string;
  state: string;
  [detail: string]: unknown;
}

/** What the supervisor drives. */
export interface Worker {
  /** Resolves when stopped (or done, e.g. a snapshot-only run); rejects on a non-retriable failure. */
  run(): Promise<void>;
  /** Drains what is in hand safely and makes run() resolve. */
  stop(): Promise<void>;
  /** Stops reading without releasing anything (slot, partitions, connections). */
  pause(): void;
  resume(): void;
  /** What it is doing: STARTING, SNAPSHOTTING, STREAMING, STANDBY, RETRYING, … */
  phase(): string;
  tables(): TableStatus[];
}

export interface SupervisorOptions {
  initial: 'running' | 'paused' | 'stopped';
  failurePolicy: 'stay' | 'exit';
  /** called on every state change (metrics) */
  onState?: (state: PipelineState) => void;
}

export class ConflictError extends TracelakeError {
  constructor(message: string, remedy: string) {
    super(message, { code: 'CONFLICT', remedy });
  }
}

export class Supervisor<W extends Worker> {
  private readonly create: () => W;
  private readonly log: Logger;
  private readonly opts: SupervisorOptions;
  private ops: Promise<unknown> = Promise.resolve();
  private running: Promise<void> | undefined;
  private stopRequested = false;
  private exitWith: ((code: number) => void) | undefined;
  readonly exited: Promise<number>;
  worker: W | undefined;
  state: PipelineState = 'UNASSIGNED';
  failure: Error | undefined;
  since = new Date();

  constructor(create: () => W, log: Logger, opts: SupervisorOptions) {
    this.create = create;
    this.log = log;
    this.opts = opts;
    this.exited = new Promise((r) => (this.exitWith = r));
  }

  /** Starts in the configured state. */
  start(): void {
    if (this.opts.initial === 'stopped') this.set('STOPPED');
    else this.launch(this.opts.initial === 'paused');
  }

  pause(): Promise<void> {
    return this.serial(async () => {
      if (this.state === 'PAUSED') return;
      if (this.state !== 'RUNNING') throw new ConflictError(`cannot pause: the pipeline is ${this.state}`, this.state === 'FAILED' ? 'POST /restart' : 'PUT /resume first');
      this.worker!.pause();
      this.set('PAUSED');
    });
  }

  resume(): Promise<void> {
    return this.serial(async () => {
      if (this.state === 'RUNNING') return;
      if (this.state === 'PAUSED') {
        this.worker!.resume();
        this.set('RUNNING');
      } else if (this.state === 'STOPPED') {
        this.launch(false);
      } else {
        throw new ConflictError(`cannot resume: the pipeline is ${this.state}`, 'POST /restart to start a failed pipeline again');
      }
    });
  }

  stop(): Promise<void> {
    return this.serial(() => this.stopWorker());
  }

  restart(): Promise<void> {
    return this.serial(async () => {
      await this.stopWorker();
      this.set('RESTARTING');
      this.launch(false);
    });
  }

  /** SIGTERM: drain and stop, then let the process exit 0. */
  async shutdown(): Promise<void> {
    await this.serial(() => this.stopWorker()).catch((err: unknown) => this.log.error({ err }, 'stop failed'));
    this.exitWith?.(0);
  }

  /** Runs `fn` once the operations before it are done (REST calls can overlap). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.ops.then(fn);
    this.ops = next.catch(() => undefined);
    return next;
  }

  private async stopWorker(): Promise<void> {
    if (!this.worker || !this.running || this.state === 'STOPPED' || this.state === 'FAILED') {
      if (this.state !== 'FAILED') this.set('STOPPED');
      return;
    }
    this.stopRequested = true;
    this.worker.resume(); // a paused worker drains what it holds, then stops
    await this.worker.stop();
    await this.running;
  }

  private launch(paused: boolean): void {
    this.stopRequested = false;
    this.failure = undefined;
    const worker = this.create();
    this.worker = worker;
    if (paused) worker.pause();
    this.set(paused ? 'PAUSED' : 'RUNNING');
    this.running = worker.run().then(
      () => {
        this.set('STOPPED');
        if (!this.stopRequested) {
          this.log.info('pipeline finished');
          this.exitWith?.(0); // finished on its own (snapshot.mode initial_only)
        }
      },
      (err: Error) => {
        if (this.stopRequested) {
          this.set('STOPPED');
          return;
        }
        this.failure = err;
        this.set('FAILED');
        if (this.opts.failurePolicy === 'exit') this.exitWith?.(1);
      },
    );
  }

  private set(state: PipelineState): void {
    if (state === this.state) return;
    this.log.info({ from: this.state, to: state }, 'pipeline state');
    this.state = state;
    this.since = new Date();
    this.opts.onState?.(state);
  }

  /** The trace of a failure, as Kafka Connect shows it: message, code, remedy, stack. */
  trace(): string | undefined {
    const e = this.failure as (Error & { code?: string; remedy?: string }) | undefined;
    if (!e) return undefined;
    return [`${e.code ? `[${e.code}] ` : ''}${e.message}`, e.remedy ? `fix: ${e.remedy}` : '', e.stack ?? ''].filter(Boolean).join('\n');
  }
}
