// The messages read off the replication connection, handled one at a time in WAL order while reading goes on.
// The socket is paused only when more than a high-water mark of messages (or bytes) waits, and resumed once the
// queue is down to half of it — so Postgres keeps sending while the connector works, and memory stays bounded.
// (pg-logical-replication's own flow control pauses the socket whenever it starts handling and resumes it only
// once its queue is empty: the walsender stopped at every turn, see docs/benchmarks.md.)

export interface Pausable {
  pause(): void;
  resume(): void;
}

export interface InboundLimits {
  /** pause reading above this many waiting messages… */
  maxMessages: number;
  /** …or bytes of them */
  maxBytes: number;
}

export class InboundQueue<T> {
  private readonly items: Array<{ item: T; bytes: number } | undefined> = [];
  private head = 0;
  private bytes = 0;
  private draining = false;
  private paused = false;
  private failed = false;

  private readonly handle: (item: T) => Promise<void>;
  private readonly onError: (err: Error) => void;
  private readonly socket: () => Pausable | undefined;
  private readonly limits: InboundLimits;

  /**
   * `handle` is called for each message in order, the next only once its promise settled; its first rejection
   * goes to `onError`, and nothing after it is handled. `socket` is asked for at each pause (it may change).
   */
  constructor(handle: (item: T) => Promise<void>, onError: (err: Error) => void, socket: () => Pausable | undefined, limits: InboundLimits) {
    this.handle = handle;
    this.onError = onError;
    this.socket = socket;
    this.limits = limits;
  }

  get waiting(): number {
    return this.items.length - this.head;
  }

  push(item: T, bytes: number): void {
    if (this.failed) return;
    this.items.push({ item, bytes });
    this.bytes += bytes;
    if (!this.paused && (this.waiting > this.limits.maxMessages || this.bytes > this.limits.maxBytes)) {
      this.paused = true;
      this.socket()?.pause();
    }
    if (!this.draining) void this.drain();
  }

  /** Stops handling: what waits is dropped (it was not acknowledged, so it is read again). */
  close(): void {
    this.failed = true;
    this.items.length = 0;
    this.head = 0;
    this.bytes = 0;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.head < this.items.length && !this.failed) {
        const { item, bytes } = this.items[this.head]!;
        this.items[this.head++] = undefined;
        this.bytes -= bytes;
        try {
          await this.handle(item);
        } catch (err) {
          this.close();
          this.onError(err as Error);
          return;
        }
        if (this.paused && this.waiting <= this.limits.maxMessages / 2 && this.bytes <= this.limits.maxBytes / 2) {
          this.paused = false;
          this.socket()?.resume();
        }
        if (this.head >= 1024 && this.head * 2 >= this.items.length) {
          this.items.splice(0, this.head);
          this.head = 0;
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
