import { test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { blockRanges, readChunks, readRangesInParallel, type SnapshotSource } from '../../../sources/postgres/snapshot-reads.ts';
import { sleep } from '../../support/wait.ts';

const src: SnapshotSource = { schema: 'public', table: 'spans', columns: ['id', 'name'], keyColumns: ['id'] };

/** A fake connection over a table of `blocks` blocks with `perBlock` rows each; rows are [id, block]. */
function fakeTable(blocks: number, perBlock: number, opts: { delayMs?: number; failAtBlock?: number } = {}) {
  const queries: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client = () => ({
    async query(q: { text: string; values: string[] }) {
      queries.push(q.text);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(opts.delayMs ?? 1);
      inFlight--;
      const from = Number(/ctid >= '\((\d+),0\)'/.exec(q.text)?.[1] ?? 0);
      const to = Number(/ctid < '\((\d+),0\)'/.exec(q.text)?.[1] ?? blocks);
      if (opts.failAtBlock !== undefined && opts.failAtBlock >= from && opts.failAtBlock < to) throw new Error('connection lost');
      const rows: string[][] = [];
      for (let b = from; b < Math.min(to, blocks); b++) for (let i = 0; i < perBlock; i++) rows.push([String(b * perBlock + i), String(b)]);
      return { rows };
    },
  }) as unknown as pg.ClientBase;
  return { client, queries, maxInFlight: () => maxInFlight };
}

test('block ranges cover every block once, about chunkRows rows each, the last one open-ended', () => {
  const ranges = blockRanges({ splittable: true, blocks: 1001, rowsPerBlock: 40, estimatedRows: 40040 }, 10_000);
  assert.equal(ranges[0]!.from, 0);
  assert.equal(ranges[0]!.to, 250);
  for (let i = 1; i < ranges.length; i++) assert.equal(ranges[i]!.from, ranges[i - 1]!.to);
  assert.equal(ranges.at(-1)!.to, null, 'rows in blocks beyond the measured size are still read');
  assert.equal(ranges.at(-1)!.from, 1000);
  // an empty table still gets one (open) range; rows larger than a block give one block per chunk
  assert.deepEqual(blockRanges({ splittable: true, blocks: 0, rowsPerBlock: 100, estimatedRows: 0 }, 10_000), [{ from: 0, to: null }]);
  assert.equal(blockRanges({ splittable: true, blocks: 10, rowsPerBlock: 0.5, estimatedRows: 0 }, 1).length, 10);
});

test('parallel readers deliver every row exactly once, with both connections busy at once', async () => {
  const table = fakeTable(97, 13, { delayMs: 3 });
  const readers = [table.client(), table.client()];
  const seen = new Map<string, number>();
  for await (const chunk of readRangesInParallel(readers, src, blockRanges({ splittable: true, blocks: 97, rowsPerBlock: 13, estimatedRows: 0 }, 50))) {
    for (const row of chunk) seen.set(row[0] as string, (seen.get(row[0] as string) ?? 0) + 1);
    await sleep(1); // the consumer is slower than nothing
  }
  assert.equal(seen.size, 97 * 13);
  assert.ok([...seen.values()].every((n) => n === 1));
  assert.equal(table.maxInFlight(), 2);
});

test('parallel readers hold at most one chunk each while the consumer is busy', async () => {
  const table = fakeTable(100, 10);
  const readers = [table.client(), table.client(), table.client()];
  const gen = readRangesInParallel(readers, src, blockRanges({ splittable: true, blocks: 100, rowsPerBlock: 10, estimatedRows: 0 }, 10));
  await gen.next();
  await sleep(50); // the readers could read all 100 ranges in this time if nothing held them back
  assert.ok(table.queries.length <= 1 + 3 + 3, `${table.queries.length} ranges read ahead of a consumer that took one`);
  await gen.return(undefined);
});

test('a reader that fails ends the read with its error, and no reader is left running', async () => {
  const table = fakeTable(40, 10, { failAtBlock: 25 });
  const readers = [table.client(), table.client()];
  await assert.rejects(async () => {
    for await (const _ of readRangesInParallel(readers, src, blockRanges({ splittable: true, blocks: 40, rowsPerBlock: 10, estimatedRows: 0 }, 20))) await sleep(1);
  }, /connection lost/);
  const n = table.queries.length;
  await sleep(20);
  assert.equal(table.queries.length, n);
});

test('keyset chunks: the next chunk is requested before the current one is handed out, from its last key', async () => {
  const calls: Array<{ text: string; values: string[] }> = [];
  const ids = Array.from({ length: 25 }, (_, i) => i + 1);
  const db = {
    async query(q: { text: string; values: string[] }) {
      calls.push(q);
      const after = q.values.length ? Number(q.values[0]) : 0;
      return { rows: ids.filter((i) => i > after).slice(0, 10).map((i) => [String(i), 'x']) };
    },
  } as unknown as pg.ClientBase;
  const gen = readChunks(db, src, 10);
  const first = await gen.next();
  assert.equal((first.value as string[][]).length, 10);
  assert.equal(calls.length, 2, 'the second chunk is already on its way');
  assert.deepEqual(calls[1]!.values, ['10']);
  const rest: string[][] = [];
  for await (const chunk of gen) rest.push(...(chunk as string[][]));
  assert.deepEqual(rest.map((r) => Number(r[0])), ids.slice(10));
  assert.equal(calls.length, 3, 'a short chunk is the last: no further query');
});
