// The chaos run's ClickHouse load: Langfuse v4 spans written to events_full the way Langfuse writes them —
// new spans, whole-row re-inserts with a later event_ts, now and then a stale version, a bookmark (ALTER
// UPDATE) and a trace deletion (lightweight DELETE, with query parameters as Langfuse sends it: seed 424242
// once showed a delete whose masked rows a merge dropped while the connector was down). Writes survive a
// ClickHouse restart (a failed insert is not counted). At the end the Delta mirror is compared with FINAL.
import type { ClickHouseFixture } from '../support/clickhouse.ts';
import { span } from '../support/langfuse-rows.ts';
import type { Warehouse } from '../../sink/src/warehouse/databricks-client.ts';
import { LoadLoop, type Rng } from './workload.ts';

export class ClickHouseWorkload {
  private readonly ch: ClickHouseFixture;
  private readonly rng: Rng;
  private nextTrace = 1;
  /** traces deleted: no later write touches them (see pick) */
  private readonly deleted = new Set<number>();
  private readonly load: LoadLoop;

  constructor(ch: ClickHouseFixture, rng: Rng) {
    this.ch = ch;
    this.rng = rng;
    this.load = new LoadLoop(() => this.step(), () => 50 + this.rng() * 150);
  }

  get inserts(): number {
    return this.load.done;
  }

  get failed(): number {
    return this.load.failed;
  }

  start(): void {
    this.load.start();
  }

  stop(): Promise<void> {
    return this.load.stop();
  }

  /**
   * A trace not deleted. A write to a deleted trace with an event_ts from before the delete (the stale step) is
   * the case docs/sources/clickhouse.md names as not followed ("Bound" under Deletes): ClickHouse keeps the row,
   * the mirror's scoped truncate may remove it. Langfuse sets event_ts when it writes, so it does not do this.
   */
  private pick(): number {
    for (let i = 0; i < 20; i++) {
      const t = 1 + Math.floor(this.rng() * Math.max(1, this.nextTrace - 1));
      if (!this.deleted.has(t)) return t;
    }
    return this.nextTrace++; // a new trace id (its writes then create it)
  }

  /** event_ts as Langfuse sets it: the time of the write (a retried old batch carries an older one) */
  private static version(offsetMs = 0): string {
    return new Date(Date.now() + offsetMs).toISOString().replace('T', ' ').replace('Z', '');
  }

  private async step(): Promise<void> {
    const v = ClickHouseWorkload.version;
    const r = this.rng();
    const db = this.ch.database;
    if (r < 0.5) { // a new trace: root and generation
      const t = this.nextTrace++;
      await this.ch.insert('events_full', [span({ trace: `T${t}`, id: `T${t}-root`, kind: 'SPAN', at: t }), span({ trace: `T${t}`, id: `T${t}-gen`, parent: `T${t}-root`, at: t })]
        .map((row) => ({ ...row, event_ts: v() })));
      return;
    }
    if (r < 0.85) { // the generation ends: the whole row again, later
      const t = this.pick();
      await this.ch.insert('events_full', [{ ...span({ trace: `T${t}`, id: `T${t}-gen`, parent: `T${t}-root`, at: t, output: `final ${this.rng()}` }), event_ts: v() }]);
      return;
    }
    if (r < 0.9) { // a retried old batch: a stale version
      const t = this.pick();
      await this.ch.insert('events_full', [{ ...span({ trace: `T${t}`, id: `T${t}-gen`, parent: `T${t}-root`, at: t, output: 'stale' }), event_ts: v(-600_000) }]);
      return;
    }
    if (r < 0.95) {
      await this.ch.exec(`ALTER TABLE ${db}.events_full UPDATE bookmarked = true WHERE project_id = 'p1' AND trace_id = 'T${this.pick()}'`);
      return;
    }
    const t = this.pick();
    this.deleted.add(t);
    await this.ch.client.command({
      query: `DELETE FROM ${db}.events_full WHERE project_id = {p: String} AND trace_id IN {ids: Array(String)}`,
      query_params: { p: 'p1', ids: [`T${t}`] },
    });
  }
}

/** Differences between the Delta mirror of events_full (live rows) and FINAL, by span. */
export async function compareWithFinal(ch: ClickHouseFixture, wh: Warehouse, schema: string): Promise<{ rows: number; mismatches: string[] }> {
  // a mutation still running has not changed FINAL yet: compare once none is
  const want = new Map((await ch.rows<{ span_id: string; v: string }>(
    `SELECT span_id, concat(output, '|', toString(bookmarked)) AS v FROM ${ch.database}.events_full FINAL`)).map((r) => [r.span_id, r.v]));
  const got = new Map((await wh.query<{ span_id: string; v: string }>(
    `SELECT span_id, concat(output, '|', CAST(bookmarked AS STRING)) AS v FROM ${schema}.events_full WHERE NOT _deleted`)).map((r) => [r.span_id, r.v]));
  const mismatches: string[] = [];
  for (const [id, v] of want) if (got.get(id) !== v) mismatches.push(`events_full ${id}: FINAL ${v} ≠ Delta ${got.get(id) ?? '(missing)'}`);
  for (const id of got.keys()) if (!want.has(id)) mismatches.push(`events_full ${id}: in Delta, not in FINAL`);
  return { rows: want.size, mismatches };
}
