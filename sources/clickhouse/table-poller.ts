// One poll of one captured table: list its parts, read the ones not yet taken (part-plan.ts), confirm the read
// by listing again, then follow its finished mutations (mutation-plan.ts). Rows go to the emitter in jobs for
// the encoder (record-decoder.ts); the table's state (what is taken, which mutations are handled) comes back
// to be committed once the jobs are.
import type { Logger } from 'pino';
import type { CapturedTable } from './captured-table.ts';
import type { ClickHouseReader } from './clickhouse-reader.ts';
import type { ClickHouseJob } from './record-decoder.ts';
import { chString, chIdent } from './clickhouse-types.ts';
import { mutationSteps, newMutations, type MutationStep } from './mutation-plan.ts';
import { advanceTaken, planPoll, type PartInfo, type TakenBlocks } from './part-plan.ts';
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
  /** rows found deleted by lightweight DELETE, and mutations whose rows could not be followed */
  maskedDeletes: number;
  untraceable: number;
  /** the newest version time sent (µs), for lag */
  newestUs: bigint | null;
}

export interface PollTarget extends CapturedTable {
  /** the encoder's ref of the registered table */
  ref: number;
}

/** Rows per encoder job, and bytes (of text) after which a job is handed over early. */
const JOB_ROWS = 500;
const JOB_BYTES = 1 << 20;
/** Part names per read query. */
const PARTS_PER_QUERY = 100;

export class TablePoller {
  private readonly reader: ClickHouseReader;
  private readonly emit: (job: ClickHouseJob, rows: number, bytes: number) => Promise<void>;
  private readonly log: Logger;

  constructor(reader: ClickHouseReader, emit: (job: ClickHouseJob, rows: number, bytes: number) => Promise<void>, log: Logger) {
    this.reader = reader;
    this.emit = emit;
    this.log = log;
  }

  /** State for a first start that takes no snapshot: every part and mutation there is counts as taken. */
  async startingNow(t: CapturedTable): Promise<TableState> {
    const parts = await this.reader.parts(t.database, t.table);
    const taken = advanceTaken({}, parts, new Set(parts.map((p) => p.name)), Date.now(), 0);
    return { taken, mutations: (await this.reader.mutations(t.database, t.table)).map((m) => m.id) };
  }

  /** One poll; `snapshot`: the first one of a new capture (rows are snapshot reads, mutations so far are in them). */
  async poll(t: PollTarget, state: TableState, settleMs: number, snapshot: boolean): Promise<PollResult> {
    const out: PollResult = { state, rowsRead: 0, tableRows: 0, events: 0, maskedDeletes: 0, untraceable: 0, newestUs: null };
    const finished = await this.reader.mutations(t.database, t.table);
    const parts = await this.reader.parts(t.database, t.table);
    out.tableRows = parts.reduce((n, p) => n + p.rows, 0);
    const { read } = planPoll(parts, state.taken);
    let taken = state.taken;
    if (read.length > 0) {
      const job = new JobBuilder(t, (j, rows, bytes) => this.emit(j, rows, bytes), out);
      const maxBlock = new Map(parts.map((p) => [p.name, p.maxBlock]));
      for (let i = 0; i < read.length; i += PARTS_PER_QUERY) {
        const names = read.slice(i, i + PARTS_PER_QUERY).map((p: PartInfo) => chString(p.name)).join(', ');
        const stats = await this.reader.rows(`SELECT ${t.selectList} FROM ${this.from(t)} WHERE _part IN (${names})`, (row) => {
          const [values, version, deleted, part, offset] = split(row, t);
          const op: Op = deleted === '1' ? 'd' : snapshot ? 'r' : 'c';
          return job.add(op, values, version, ((maxBlock.get(part) ?? 0n) << 32n) | BigInt(offset));
        });
        out.rowsRead += stats.readRows;
        fault('clickhouse-part-read'); // rows read and handed over, the state not yet committed
      }
      await job.flush();
      const active = new Set((await this.reader.parts(t.database, t.table)).map((p) => p.name));
      taken = advanceTaken(taken, read, active, Date.now(), settleMs);
    } else {
      taken = advanceTaken(taken, [], new Set(), Date.now(), settleMs);
    }
    const handled = new Set(state.mutations);
    if (!snapshot) {
      for (const m of newMutations(finished, handled)) {
        for (const step of mutationSteps(m)) await this.follow(t, step, out);
      }
    }
    out.state = { taken, mutations: finished.map((m) => m.id) };
    return out;
  }

  /** A finished mutation: rows a lightweight DELETE masked become deletes, rows an UPDATE changed are sent again. */
  private async follow(t: PollTarget, step: MutationStep, out: PollResult): Promise<void> {
    if (step.kind === 'untraceable') {
      out.untraceable++;
      this.log.warn({ table: `${t.database}.${t.table}`, mutation: step.id, command: step.command },
        'an ALTER TABLE … DELETE removed rows without a trace: they stay in the mirror (docs/sources/clickhouse.md, "Deletes")');
      return;
    }
    const job = new JobBuilder(t, (j, rows, bytes) => this.emit(j, rows, bytes), out);
    let n = 0n;
    const masked = step.kind === 'masked';
    const query = `SELECT ${t.selectList} FROM ${this.from(t)} WHERE (${step.where})${masked ? ' AND _row_exists = 0' : ''}`;
    const stats = await this.reader.rows(query, (row) => {
      const [values, version, deleted] = split(row, t);
      if (masked) out.maskedDeletes++;
      // positioned at the mutation: after every version of the rows it changed (its block number is above theirs)
      return job.add(masked || deleted === '1' ? 'd' : 'u', values, version, (step.version << 32n) | n++);
    }, masked ? { apply_deleted_mask: 0 } : {});
    out.rowsRead += stats.readRows;
    await job.flush();
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

  private empty(): ClickHouseJob {
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
