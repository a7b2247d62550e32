// The object-storage source (sources/source.ts): takes the files a trace platform exports to a bucket — Langfuse's
// blob-storage export, LangSmith's bulk export — each exactly once, and emits one upsert per row. A listing of
// the prefix gives the units not taken yet (langfuse-layout.ts, langsmith-layout.ts); each file is converted
// whole (export-file-reader.ts: large Parquet files by row group) before anything of it is sent; a file that cannot be read
// goes to the dead-letter topic with its key and the reason, and the others flow. Each unit ends in a commit
// whose position is the source's whole state (taken-files.ts): once it is durable in Kafka it is written to the
// state topic. A crash mid-unit reads the unit again: the same rows at the same positions, which the sink's
// MERGE applies once.
import type { Logger } from 'pino';
import { checkExportFile } from './export-file-reader.ts';
import { buildExportTable, type ExportJob, type ExportTableSource } from './export-record-decoder.ts';
import type { ExportColumn } from './export-rows.ts';
import type { ExportFile, ExportUnit } from './export-unit.ts';
import { langfuseManifest, langfuseUnits } from './langfuse-layout.ts';
import { langsmithUnits } from './langsmith-layout.ts';
import { objectStorageStateKey, type ObjectStorageSourceConfig } from './object-storage-config.ts';
import { isObjectStoreLoss, S3ObjectStore, type ObjectStore, type StoredObject } from './object-store.ts';
import { emptyExportState, pendingUnits, pruneToListing, takeUnit, type ExportState, type RejectedFile } from './taken-files.ts';
import type { ChangeSource, SourceStatus, SourceTable } from '../source.ts';
import { openEmitterSession, type EmitterSession } from '../../emitter/emitter-session.ts';
import type { ConnectorConfig } from '../../connector/src/config.ts';
import type { ConnectorMetrics } from '../../connector/src/metrics.ts';
import { EXPORT_PRESETS, type ExportPreset } from '../../schemas/src/export-presets.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import type { Gate } from '../../runtime/gate.ts';
import { Pause } from '../../runtime/pause.ts';

const RECORD_DECODER = new URL('./export-record-decoder.ts', import.meta.url).href;
export const OBJECT_STORAGE_CONNECTOR_NAME = 'tracelake-object-storage';
/** rows per encoder job, and characters of text after which a job is handed over early */
const JOB_ROWS = 1000;
const JOB_CHARS = 4 << 20;
const COMMIT_EVERY_MS = 1000;

interface TableTarget {
  table: string;
  ref: number;
  columns: ExportColumn[];
}

export class ObjectStorageSource implements ChangeSource {
  private readonly cfg: ConnectorConfig;
  private readonly os: ObjectStorageSourceConfig;
  private readonly preset: ExportPreset;
  private readonly log: Logger;
  private readonly gate: Gate;
  private readonly metrics: ConnectorMetrics | undefined;
  private readonly storeFactory: (cfg: ObjectStorageSourceConfig) => ObjectStore;
  private store: ObjectStore | undefined;
  private session: EmitterSession<ExportState, ExportState> | undefined;
  private targets = new Map<string, TableTarget>();
  /** what is taken and rejected, as far as this run got (REST status shows the rejected files) */
  private state: ExportState = emptyExportState();
  private connectedOnce = false;
  private stopping = false;
  private readonly pause = new Pause();
  status: SourceStatus = 'STARTING';

  constructor(cfg: ConnectorConfig & { objectStorage: ObjectStorageSourceConfig }, log: Logger, gate: Gate, metrics?: ConnectorMetrics,
    storeFactory: (cfg: ObjectStorageSourceConfig) => ObjectStore = (c) => new S3ObjectStore(c)) {
    this.cfg = cfg;
    this.os = cfg.objectStorage;
    this.preset = EXPORT_PRESETS[this.os.platform];
    this.log = log.child({ source: 'object-storage' });
    this.gate = gate;
    this.metrics = metrics;
    this.storeFactory = storeFactory;
  }

  get stateKey(): string {
    return objectStorageStateKey(this.cfg, this.os);
  }

  tables(): SourceTable[] {
    return Object.keys(this.preset.tables).map((table) => {
      const name = `${this.preset.schema}.${table}`;
      const rejectedFiles = Object.entries(this.state.rejected)
        .filter(([, r]) => r.table === table || r.table === 'manifests') // a bad manifest holds back a run of every table
        .map(([file, r]) => ({ file, code: r.code, error: r.error, at: r.at }));
      return { name, events: this.session?.emitter.tableEvents.get(name) ?? 0, ...(rejectedFiles.length > 0 ? { rejectedFiles } : {}) };
    });
  }

  async run(): Promise<void> {
    this.status = 'STARTING';
    this.stopping = false;
    const os = this.os;
    const store = (this.store = this.storeFactory(os));
    let listing = await store.list(os.prefix); // a wrong credential, bucket or missing list grant fails here, named
    this.connectedOnce = true;

    const tables = Object.entries(this.preset.tables);
    const session: EmitterSession<ExportState, ExportState> = (this.session = await openEmitterSession<ExportState, ExportState>(this.cfg, {
      source: { connector: OBJECT_STORAGE_CONNECTOR_NAME, db: os.bucket }, decoder: RECORD_DECODER,
      tables: tables.map(([t]) => `${this.preset.schema}.${t}`),
      onDurable: (state): Promise<void> => this.session!.state.write(this.stateKey, state),
      onFailure: () => this.pause.wake(),
    }, this.log, this.metrics));
    const sources = tables.map(([table, p]) => this.tableSource(table, p.columns.map(([name, kind]) => ({ name, kind }))));
    const declared = await session.emitter.tables.declare(sources.map((s) => ({ schema: buildExportTable(s), description: s })), [session.deadLetterTopic]);
    this.targets = new Map(sources.map((s, i) => [s.table, { table: s.table, ref: declared[i]!.ref, columns: s.columns }]));
    const emitter = session.emitter;
    emitter.reset();

    this.state = { ...emptyExportState(), ...(await session.state.read(this.stateKey)) };
    this.log.info({ platform: os.platform, bucket: os.bucket, prefix: os.prefix, taken: Object.keys(this.state.taken).length }, 'capturing exported files');
    this.status = 'RUNNING';
    while (!this.stopping) {
      await this.gate.wait();
      if (this.stopping) break;
      this.state = pruneToListing(this.state, new Set(listing.map((o) => o.key)));
      const pending = pendingUnits(this.units(listing), this.state);
      this.metrics?.exportPendingUnits.set(pending.length);
      const sizes = new Map(listing.map((o) => [o.key, o]));
      let committedAt = Date.now();
      let uncommitted: bigint | null = null; // the time of the last unit taken and not yet committed
      for (const [i, unit] of pending.entries()) {
        if (this.stopping) break;
        await this.gate.wait();
        const rejected = await this.takeUnit(unit, sizes);
        if (!rejected) break; // stopped mid-unit: it is read again at the next start
        this.state = takeUnit(this.state, unit, rejected);
        // the state (every unit taken) is written at most once a second while a backlog of units is taken, and
        // after the last: a crash reads at most a second's worth again, and a year of 20-minute exports is not
        // 26,000 writes of a growing record
        if (i === pending.length - 1 || Date.now() - committedAt >= COMMIT_EVERY_MS) {
          await emitter.commit(structuredClone(this.state), unit.timeUs);
          committedAt = Date.now();
          uncommitted = null;
        } else {
          uncommitted = unit.timeUs;
        }
        emitter.throwIfFailed();
        this.metrics?.exportPendingUnits.dec();
      }
      if (uncommitted !== null) await emitter.commit(structuredClone(this.state), uncommitted); // stopped mid-backlog
      await emitter.flush();
      emitter.throwIfFailed();
      if (this.stopping) break;
      await this.pause.for(os.pollIntervalMs);
      emitter.throwIfFailed();
      if (this.stopping) break;
      listing = await store.list(os.prefix);
    }
    await emitter.flush();
  }

  private units(listing: StoredObject[]): ExportUnit[] {
    return this.os.platform === 'langfuse-export' ? langfuseUnits(listing, this.os.prefix) : langsmithUnits(listing, this.os.prefix);
  }

  private tableSource(table: string, columns: ExportColumn[]): ExportTableSource & { columns: ExportColumn[] } {
    return { schema: this.preset.schema, table, columns, keyColumns: this.preset.tables[table]!.key };
  }

  /** Reads and sends one unit's files; returns the files it dead-lettered (null: stopped before the end). */
  private async takeUnit(unit: ExportUnit, listed: Map<string, StoredObject>): Promise<Record<string, RejectedFile> | null> {
    const rejected: Record<string, RejectedFile> = {};
    let files = unit.files;
    let timeUs = unit.timeUs;
    if (!files) {
      try {
        const manifest = langfuseManifest(new TextDecoder().decode(await this.store!.get(unit.key)), new Set(Object.keys(this.preset.tables)));
        files = manifest.files;
        timeUs = manifest.windowEndUs;
      } catch (err) {
        if (!isRejectable(err)) throw err;
        await this.reject(rejected, unit, { key: unit.key, table: 'manifests' }, err);
        return rejected;
      }
    }
    for (const file of files) {
      if (this.stopping) return null;
      await this.takeFile(unit, file, timeUs, listed.get(file.key), rejected);
    }
    return rejected;
  }

  /** A file's rows are ordered by the unit's time and their row number in the file: the same file read again gives the same positions, whatever its unit's other files hold. */
  private async takeFile(unit: ExportUnit, file: ExportFile, timeUs: bigint, stored: StoredObject | undefined, rejected: Record<string, RejectedFile>): Promise<void> {
    const target = this.targets.get(file.table)!;
    let checked;
    try {
      checked = await checkExportFile(this.store!, file, stored, target.columns, this.preset.tables[file.table]!,
        { file: file.key, table: file.table, unitTimeUs: timeUs, firstRow: 0, pathColumns: file.pathColumns }, { maxFileBytes: this.os.maxFileBytes });
    } catch (err) {
      if (!isRejectable(err)) throw err;
      await this.reject(rejected, unit, file, err);
      return;
    }
    if (checked.added.length > 0) await this.evolve(target, checked.columns, checked.added);
    for await (const part of checked.parts()) await this.send(target.ref, part);
    this.metrics?.exportFiles.inc({ table: file.table, outcome: 'taken' });
    this.metrics?.exportBytes.inc({ table: file.table }, stored?.size ?? 0);
    this.metrics?.exportRows.inc({ table: file.table }, checked.rows);
    this.log.debug({ file: file.key, table: file.table, rows: checked.rows, bytes: stored?.size }, 'export file taken');
  }

  /** Schema evolution: columns a file adds become a new schema version (every field optional: BACKWARD compatible). */
  private async evolve(target: TableTarget, columns: ExportColumn[], added: ExportColumn[]): Promise<void> {
    const source = this.tableSource(target.table, columns);
    const registered = await this.session!.emitter.tables.register({ schema: buildExportTable(source), description: source });
    target.ref = registered.ref;
    target.columns = columns;
    this.log.info({ table: `${this.preset.schema}.${target.table}`, added: added.map((c) => `${c.name} (${c.kind})`) }, 'the export has new columns: captured with a new schema version');
  }

  private async send(ref: number, c: { rows: ExportJob['rows']; versions: bigint[]; seqs: bigint[] }): Promise<void> {
    const emitter = this.session!.emitter;
    let job: ExportJob = { ref, rows: [], versions: [], seqs: [] };
    let chars = 0;
    const flush = async () => {
      if (job.rows.length === 0) return;
      const full = job;
      job = { ref, rows: [], versions: [], seqs: [] };
      await emitter.submit({ payload: full }, full.rows.length, chars);
      chars = 0;
    };
    for (let i = 0; i < c.rows.length; i++) {
      const row = c.rows[i]!;
      c.rows[i] = []; // handed to a job: not held twice
      job.rows.push(row);
      job.versions.push(c.versions[i]!);
      job.seqs.push(c.seqs[i]!);
      for (const v of row) if (typeof v === 'string') chars += v.length;
      if (job.rows.length >= JOB_ROWS || chars >= JOB_CHARS) await flush();
    }
    await flush();
  }

  private async reject(rejected: Record<string, RejectedFile>, unit: ExportUnit, file: Pick<ExportFile, 'key' | 'table'>, err: unknown): Promise<void> {
    const e = err as TracelakeError;
    const code = e.code;
    const entry: RejectedFile = { unit: unit.key, table: file.table, code, error: e.message, at: new Date().toISOString() };
    rejected[file.key] = entry;
    await this.session!.deadLetter(file.key, {
      kind: 'export-file', bucket: this.os.bucket, key: file.key, unit: unit.key, table: `${this.preset.schema}.${file.table}`, code, error: e.message, at: entry.at,
    });
    this.metrics?.exportFiles.inc({ table: file.table, outcome: 'rejected' });
    this.metrics?.errors.inc({ code });
    this.log.error({ file: file.key, unit: unit.key, table: file.table, code, err: e.message, remedy: e.remedy },
      'an export file could not be read: sent to the dead-letter topic, the others flow');
  }

  async lost(err: unknown): Promise<string | null> {
    return !this.stopping && this.connectedOnce && isObjectStoreLoss(err) ? 'OBJECT_STORE_CONNECTION_LOST' : null;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.pause.wake();
  }

  async close(): Promise<void> {
    await this.session?.close();
    this.session = undefined;
    this.store?.close();
    this.store = undefined;
  }
}

/** Failures of one file (its content, or its absence), not of the store: the file is dead-lettered. */
const FILE_FAILURES = new Set(['FILE_UNREADABLE', 'MANIFEST_UNREADABLE', 'FILE_MISSING', 'FILE_TOO_LARGE']);
const isRejectable = (err: unknown): err is TracelakeError => err instanceof TracelakeError && FILE_FAILURES.has(err.code);
