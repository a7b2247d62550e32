// Which parts of a MergeTree table a poll reads: the change-detection core of the ClickHouse source. Pure.
//
// A MergeTree table is a set of immutable parts. Every INSERT makes a new part and takes the next block
// number(s) of its partition; a merge replaces parts by one covering their block range; a mutation (a
// lightweight DELETE included) rewrites a part under a new name with the same block range and a higher data
// version. So "what is new since the last poll" is a question about block numbers, answered from
// system.parts alone, without scanning the table (docs/sources/clickhouse.md):
//
// - per partition the source keeps what blocks are in Kafka: every block up to `upTo`, and the block ranges
//   of parts taken above it (with when they were taken);
// - a part not covered by those is read whole: a new insert holds only new rows; a part merged from taken
//   parts and new ones before a poll saw the new ones holds some taken rows too, which are sent again (same
//   position: the sink's MERGE is idempotent);
// - `upTo` moves past a taken range only `settleMs` after it was taken: block numbers are handed out when an
//   INSERT starts, so a slow insert can become visible after a later, faster one. Within the settle time its
//   part is still "not covered" and is read; ClickHouse never merges across a block still being inserted;
// Mutations (lightweight DELETE, ALTER UPDATE) keep block ranges: mutation-plan.ts follows them.
//
// A part listed but merged away before the read returns nothing. A part counts as taken when the read
// returned rows of it (a query reads the parts of the snapshot it took at its start whole, even when a merge
// replaces one meanwhile) or when it is still active in a second listing after the read (a part whose
// untaken rows a merge collapsed returns none); a part that vanished before the read is neither, so what
// replaced it is not covered and is read next time.

export interface PartInfo {
  partition: string;
  name: string;
  minBlock: bigint;
  maxBlock: bigint;
  rows: number;
}

/** What of one partition is in Kafka (block numbers as decimal text: it is kept as JSON). */
export interface TakenPartition {
  /** every block up to this one */
  upTo: string;
  /** ranges taken above upTo: [minBlock, maxBlock, taken at (ms since 1970)] */
  above: Array<[string, string, number]>;
}
/** Per partition id, what is taken. */
export type TakenBlocks = Record<string, TakenPartition>;

export interface PollPlan {
  /** parts read whole: new inserts, and merged parts that contain new blocks */
  read: PartInfo[];
}

/** Whether every block of the part is taken. */
export function covered(taken: TakenPartition | undefined, minBlock: bigint, maxBlock: bigint): boolean {
  if (!taken) return false;
  let next = minBlock;
  const upTo = BigInt(taken.upTo);
  if (next <= upTo) next = upTo + 1n;
  const ranges = taken.above.map(([a, b]) => [BigInt(a), BigInt(b)] as const).sort((x, y) => Number(x[0] - y[0]));
  for (const [a, b] of ranges) {
    if (next > maxBlock) break;
    if (a <= next && next <= b) next = b + 1n;
  }
  return next > maxBlock;
}

/** What to read, given the active parts and what is taken. */
export function planPoll(parts: PartInfo[], taken: TakenBlocks): PollPlan {
  const read = parts.filter((p) => !covered(taken[p.partition], p.minBlock, p.maxBlock));
  read.sort((a, b) => (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : Number(a.minBlock - b.minBlock)));
  return { read };
}

/**
 * What is taken after a poll read `read`, of which `done` were read whole (returned rows, or still active
 * afterwards; a part that vanished before the read is not taken: what replaced it is read next time), at
 * `nowMs`; ranges older than `settleMs` fold into upTo.
 */
export function advanceTaken(taken: TakenBlocks, read: PartInfo[], done: ReadonlySet<string>, nowMs: number, settleMs: number): TakenBlocks {
  const next: TakenBlocks = {};
  for (const [partition, t] of Object.entries(taken)) next[partition] = { upTo: t.upTo, above: [...t.above] };
  for (const p of read) {
    if (!done.has(p.name)) continue;
    const t = (next[p.partition] ??= { upTo: '-1', above: [] });
    if (p.maxBlock > BigInt(t.upTo)) t.above.push([p.minBlock.toString(), p.maxBlock.toString(), nowMs]);
  }
  for (const t of Object.values(next)) {
    let upTo = BigInt(t.upTo);
    for (const [, b, at] of t.above) if (at <= nowMs - settleMs && BigInt(b) > upTo) upTo = BigInt(b);
    t.upTo = upTo.toString();
    t.above = t.above.filter(([, b]) => BigInt(b) > upTo);
  }
  return next;
}

/**
 * For a table that keeps each row's block number (`enable_block_number_column`, as Langfuse v4's events_full
 * does): a condition on `_block_number` selecting the rows of blocks not taken, so that a merged part is read
 * for its new rows only.
 */
export function untakenBlocks(taken: TakenPartition | undefined): string {
  if (!taken) return 'true';
  const ranges = taken.above.map(([a, b]) => `_block_number BETWEEN ${BigInt(a)} AND ${BigInt(b)}`);
  return `_block_number > ${BigInt(taken.upTo)}${ranges.length > 0 ? ` AND NOT (${ranges.join(' OR ')})` : ''}`;
}

/** Rows in parts the table has, and rows it would read for the plan: the poll's cost against the table's size. */
export function planRows(parts: PartInfo[], plan: PollPlan): { table: number; planned: number } {
  return {
    table: parts.reduce((n, p) => n + p.rows, 0),
    planned: plan.read.reduce((n, p) => n + p.rows, 0),
  };
}
