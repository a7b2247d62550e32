// The seam between a source and the rest of the connector (docs/architecture.md). A source reads one kind of
// store; everything after it — envelope, Avro, registry, batching, Kafka, the state topic, acknowledgement — is
// the emitter's (emitter/). The connector (connector/src/connector.ts) runs a source like a Kafka Connect task:
// one run after another while the source's store comes and goes, until it is stopped or fails for good.
//
// A run, in Debezium's terms: the source opens its emitter session (openEmitterSession) — the EventDispatcher —
// declares its tables, takes a snapshot when its offsets say so (its ChangeEventSource for snapshots), then
// streams. It hands the emitter jobs and commits; the emitter hands back, in order, each commit once Kafka has
// every event before it (onDurable), and only then may the source acknowledge that position to its store (its
// OffsetContext: the slot, a state-topic record, a cursor).

/** What a source is doing; the connector adds STOPPED and FAILED. RUNNING = streaming; STANDBY = another process holds the source and this one waits. */
export type SourceStatus = 'STARTING' | 'SNAPSHOTTING' | 'RUNNING' | 'STANDBY';

export interface SnapshotProgress {
  rows: number;
  state: 'PENDING' | 'RUNNING' | 'DONE' | 'FAILED';
  kind: 'initial' | 'requested';
  startedAt?: string;
  finishedAt?: string;
  error?: string;
}

/** A table the source captures, as REST /status shows it. */
export interface SourceTable {
  /** schema.table */
  name: string;
  events: number;
  snapshot?: SnapshotProgress;
  /** files the source could not read and dead-lettered (the object-storage source) */
  rejectedFiles?: Array<{ file: string; code: string; error: string; at: string }>;
}

export interface ChangeSource {
  readonly status: SourceStatus;
  /**
   * One run: connect, declare the tables, snapshot as the offsets say, stream until stop(). Resolves when
   * stopped or done (a snapshot-only run); rejects on any error — the connector then asks lost().
   */
  run(): Promise<void>;
  /**
   * Whether `err` means the store went away after it once answered: then the error code to count (e.g.
   * PG_CONNECTION_LOST), and the connector starts a new run once it is back; null when it is a failure.
   */
  lost(err: unknown): Promise<string | null>;
  /** Closes everything the run opened (also after a failed run). */
  close(): Promise<void>;
  /** Graceful: what was read is sent and acknowledged, then run() resolves. */
  stop(): Promise<void>;
  tables(): SourceTable[];
  /** Re-reads one table while streaming goes on (Debezium's execute-snapshot signal), where the source can. */
  requestSnapshot?(table: string): SnapshotProgress;
}
