// One poll of one captured table: list its parts, read the ones not yet taken (part-plan.ts), confirm the read
// (rows returned, or the part listed again), then follow its finished mutations (mutation-plan.ts). Rows go
// to the emitter in jobs for the encoder (record-decoder.ts); the table's state (what is taken, which
// mutations are handled) comes back to be committed once the jobs are.
import type { Logger } from 'pino';
import type { CapturedTable } from './captured-table.ts';
import type { ClickHouseReader } from './clickhouse-reader.ts';
import type { ClickHouseJob } from './record-decoder.ts';
import { chString, chIdent } from './clickhouse-types.ts';
import { mutationSteps, newMutations, type MutationStep } from './mutation-plan.ts';
import { advanceTaken, planPoll, untakenBlocks, type PartInfo, type TakenBlocks } from './part-plan.ts';
import { deleteScope } from './delete-scope.ts';
import type { RowScope } from '../../schemas/src/row-scope.ts';
import type { Tuple } from '../../emitter/encode/change-record.ts';
import type { Op } from '../../schemas/src/envelope.ts';
import { fault } from '../../runtime/faults.ts';

export interface TableState {
  taken: TakenBlocks;
  /** finished mutations already followed (those system.mutations still lists) */
  mutations: string[];
}

export interface PollResult {
  state: TableState;
  /** rows the engine read for this poll (its query statistics), and rows the table has */
  rowsRead: number;
  tableRows: number;
  events: number;
  /** rows found masked by a lightweight DELETE, and DELETEs whose predicate could not be applied to the mirror */
  maskedDeletes: number;
  untraceable: number;
  /** the newest version time sent (µs), for lag */
  newestUs: bigint | null;
}

export interface PollTarget extends CapturedTable {
  /** the encoder's ref of the registered table */
  ref: number;
  /** the fingerprint of the table's columns when they were last compared (null: not yet) */
  columnsKey: string | null;
}

/** Rows per encoder job, and bytes (of text) after which a job is handed over early. */
const JOB_ROWS = 500;
const JOB_BYTES = 1 << 20;
/** Live keys a DELETE's truncate may spare (it names each in its statement). */
const MAX_KEPT = 1000;
/** Part names per read query. */
const PARTS_PER_QUERY = 100;

export class TablePoller {
  private readonly reader: ClickHouseReader;
  private readonly emit: (job: ClickHouseJob, rows: number, bytes: number) => Promise<void>;
  private readonly log: Logger;
  /** the zone the server reads date-time texts of DELETE predicates in */
  private readonly serverTimezone: string;

  constructor(reader: ClickHouseReader, emit: (job: ClickHouseJob, rows: number, bytes: number) => Promise<void>, log: Logger, serverTimezone: string) {
    this.reader = reader;
    this.emit = emit;
    this.log = log;
    this.serverTimezone = serverTimezone;
  }

  /** State for a first start that takes no snapshot: every part and mutation there is counts as taken. */
  async startingNow(t: CapturedTable): Promise<TableState> {
    const parts = await this.reader.parts(t.database, t.table);
    const taken = advanceTaken({}, parts, new Set(parts.map((p) => p.name)), Date.now(), 0);
    return { taken, mutations: (await this.reader.mutations(t.database, t.table)).map((m) => m.id) };
  }

  /**
   * One poll; `snapshot`: the first one of a new capture (rows are snapshot reads, mutations so far are in them).
   * `current` gives the table as it is now when its columns changed (a column added: a new schema version,
   * registered before rows are read with it).
   */
  async poll(target: PollTarget, state: TableState, settleMs: number, snapshot: boolean,
    current: (t: PollTarget, columnsKey: string | null) => Promise<PollTarget>): Promise<PollResult & { target: PollTarget }> {
    const out: PollResult = { state, rowsRead: 0, tableRows: 0, events: 0, maskedDeletes: 0, untraceable: 0, newestUs: null };
    const finished = await this.reader.mutations(target.database, target.table);
    const { parts, columnsKey } = await this.reader.partsAndColumnsKey(target.database, target.table);
    const t = await current(target, columnsKey);
    out.tableRows = parts.reduce((n, p) => n + p.rows, 0);
    const { read } = planPoll(parts, state.taken);
    let taken = state.taken;
    if (read.length > 0) {
      const job = new JobBuilder(t, (j, rows, bytes) => this.emit(j, rows, bytes), out);
      const maxBlock = new Map(parts.map((p) => [p.name, p.maxBlock]));
      // parts a read returned rows of: they were in that query's snapshot, so it read them whole
      const returned = new Set<string>();
      // per partition: with block numbers kept in the rows, a merged part is read for its untaken blocks only
      const byPartition = new Map<string, PartInfo[]>();
      for (const p of read) byPartition.set(p.partition, [...(byPartition.get(p.partition) ?? []), p]);
      for (const [partition, group] of byPartition) {
        const blocks = t.identity.blockNumbers ? ` AND (${untakenBlocks(taken[partition])})` : '';
        for (let i = 0; i < group.length; i += PARTS_PER_QUERY) {
          const names = group.slice(i, i + PARTS_PER_QUERY).map((p) => chString(p.name)).join(', ');
          const stats = await this.reader.rows(`SELECT ${t.selectList} FROM ${this.from(t)} WHERE _part IN (${names})${blocks}`, (row) => {
            const [values, version, deleted, part, offset] = split(row, t);
            returned.add(part);
            // 'u', never 'c': a version may replace one the mirror has (the sink MERGEs inserts-only batches without WHEN MATCHED)
            const op: Op = deleted === '1' ? 'd' : snapshot ? 'r' : 'u';
            return job.add(op, values, version, ((maxBlock.get(part) ?? 0n) << 32n) | BigInt(offset));
          });
          out.rowsRead += stats.readRows;
          fault('clickhouse-part-read'); // rows read and handed over, the state not yet committed
        }
      }
      await job.flush();
      const done = new Set((await this.reader.parts(t.database, t.table)).map((p) => p.name));
      for (const name of returned) done.add(name);
      taken = advanceTaken(taken, read, done, Date.now(), settleMs);
    } else {
      taken = advanceTaken(taken, [], new Set(), Date.now(), settleMs);
    }
    const handled = new Set(state.mutations);
    if (!snapshot) {
      for (const m of newMutations(finished, handled)) {
        for (const step of mutationSteps(m)) await this.follow(t, step, out, m.createdUs);
      }
    }
    out.state = { taken, mutations: finished.map((m) => m.id) };
    return { ...out, target: t };
  }

  /**
   * A finished mutation. An UPDATE's rows are sent again, positioned at the mutation. A DELETE (lightweight or
   * not) becomes a scoped truncate — its predicate as a row scope, removing the mirror's rows it selects that
   * are older than the mutation — and a lightweight one's masked rows, still readable until a merge drops them,
   * also each become a delete (their keys exactly, whatever the predicate).
   */
  private async follow(t: PollTarget, step: MutationStep, out: PollResult, createdUs: bigint): Promise<void> {
    const job = new JobBuilder(t, (j, rows, bytes) => this.emit(j, rows, bytes), out);
    if (step.kind !== 'updated') {
      const scope = await this.truncateScope(t, step.where);
      if (scope) {
        // older than the mutation: versions up to the end of the second it was created in (its time has seconds only)
        await this.emit({ ...job.empty(), ops: ['t'], rows: [[]], versions: [createdUs + 999_999n], seqs: [(step.version << 32n) | 0xffffffffn], scope }, 1, 256);
      } else {
        out.untraceable++;
        this.log.warn({ table: `${t.database}.${t.table}`, mutation: step.id, where: step.where },
          'a DELETE whose predicate tracelake cannot apply to the mirror: only the rows it masked and that are still readable are deleted (docs/sources/clickhouse.md)');
      }
      if (step.kind === 'deleted') return;
    }
    let n = 0n;
    const masked = step.kind === 'masked';
    // an UPDATE's rows: the winning version of each (FINAL), so that versions tied on event_ts keep ClickHouse's order
    const query = masked
      ? `SELECT ${t.selectList} FROM ${this.from(t)} WHERE (${step.where}) AND _row_exists = 0`
      : `SELECT ${t.selectList} FROM ${this.from(t)} FINAL WHERE (${step.where})`;
    const stats = await this.reader.rows(query, (row) => {
      const [values, version, deleted] = split(row, t);
      if (masked) out.maskedDeletes++;
      // positioned at the mutation: after every version of the rows it changed (its block number is above theirs)
      return job.add(masked || deleted === '1' ? 'd' : 'u', values, version, (step.version << 32n) | n++);
    }, masked ? { apply_deleted_mask: 0 } : {});
    out.rowsRead += stats.readRows;
    await job.flush();
  }

  /**
   * The rows a DELETE removes from the mirror: those its predicate selects, except the keys that match it and
   * live in ClickHouse now (inserted after it). Null when the predicate is not understood, or when more than
   * MAX_KEPT live keys match it (the statement would carry them all).
   */
  private async truncateScope(t: PollTarget, where: string): Promise<RowScope | null> {
    const scope = deleteScope(where, t.columns, this.serverTimezone);
    if (!scope) return null;
    const keys = t.source.keyColumns;
    const exprs = keys.map((k) => t.columnExprs[t.source.columns.findIndex((c) => c.name === k)]!);
    const live: RowScope[] = [];
    await this.reader.rows(`SELECT ${exprs.join(', ')} FROM ${this.from(t)} FINAL WHERE (${where}) LIMIT ${MAX_KEPT + 1}`, (row) => {
      live.push({ and: keys.map((column, i) => ({ column, op: '=' as const, value: row[i] ?? '' })) });
    });
    if (live.length > MAX_KEPT) return null;
    return live.length === 0 ? scope : { and: [scope, { not: { or: live } }] };
  }

  private from(t: CapturedTable): string {
    return `${chIdent(t.database)}.${chIdent(t.table)}`;
  }
}

/** A row as selected: the column values, then version, is_deleted, _part, _part_offset. */
function split(row: Array<string | null>, t: CapturedTable): [Tuple, string, string, string, string] {
  const n = t.source.columns.length;
  return [row.slice(0, n), row[n] ?? '0', row[n + 1] ?? '0', row[n + 2] ?? '', row[n + 3] ?? '0'];
}

class JobBuilder {
  private job: ClickHouseJob;
  private bytes = 0;
  private readonly t: PollTarget;
  private readonly send: (job: ClickHouseJob, rows: number, bytes: number) => Promise<void>;
  private readonly out: PollResult;

  constructor(t: PollTarget, send: (job: ClickHouseJob, rows: number, bytes: number) => Promise<void>, out: PollResult) {
    this.t = t;
    this.send = send;
    this.out = out;
    this.job = this.empty();
  }

  empty(): ClickHouseJob {
    return { ref: this.t.ref, ops: [], rows: [], versions: [], seqs: [], timeIsVersion: this.t.timeVersion, readAtUs: BigInt(Date.now()) * 1000n };
  }

  add(op: Op, values: Tuple, version: string, seq: bigint): Promise<void> | undefined {
    const v = BigInt(version);
    this.job.ops.push(op);
    this.job.rows.push(values);
    this.job.versions.push(v);
    this.job.seqs.push(seq);
    for (const x of values) if (typeof x === 'string') this.bytes += x.length;
    this.out.events++;
    if (this.t.timeVersion && (this.out.newestUs === null || v > this.out.newestUs)) this.out.newestUs = v;
    return this.job.rows.length >= JOB_ROWS || this.bytes >= JOB_BYTES ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.job.rows.length === 0) return;
    const job = this.job;
    const bytes = this.bytes;
    this.job = this.empty();
    this.bytes = 0;
    await this.send(job, job.rows.length, bytes);
  }
}
