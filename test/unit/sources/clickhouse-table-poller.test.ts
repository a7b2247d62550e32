import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { TablePoller, type PollTarget, type TableState } from '../../../sources/clickhouse/table-poller.ts';
import { capturedTable } from '../../../sources/clickhouse/captured-table.ts';
import { tableIdentity } from '../../../sources/clickhouse/table-identity.ts';
import { defaultMappingOptions } from '../../../schemas/src/pg-types.ts';
import type { ClickHouseReader } from '../../../sources/clickhouse/clickhouse-reader.ts';
import type { ClickHouseJob } from '../../../sources/clickhouse/record-decoder.ts';
import type { PartInfo } from '../../../sources/clickhouse/part-plan.ts';

// A table of parts in memory, each row read as [id, v, version, is_deleted, part name, offset]; `afterRead` runs when a read
// query returns (a merge that replaces parts right after they were read, before the poll lists them again).
class FakeTable {
  parts: Array<PartInfo & { ids: string[] }> = [];
  afterRead: () => void = () => undefined;
  insert(block: number, ids: string[]): void {
    this.parts.push({ partition: 'all', name: `all_${block}_${block}_0`, minBlock: BigInt(block), maxBlock: BigInt(block), rows: ids.length, ids });
  }
  merge(): void {
    const ps = this.parts;
    this.parts = [{
      partition: 'all', name: `all_${ps[0]!.minBlock}_${ps.at(-1)!.maxBlock}_1`, minBlock: ps[0]!.minBlock, maxBlock: ps.at(-1)!.maxBlock,
      rows: ps.reduce((n, p) => n + p.rows, 0), ids: ps.flatMap((p) => p.ids),
    }];
  }
  reader(): ClickHouseReader {
    const list = async () => this.parts.map(({ ids: _ids, ...p }) => p);
    return {
      mutations: async () => [],
      parts: list,
      partsAndColumnsKey: async () => ({ parts: await list(), columnsKey: null }),
      rows: async (query: string, onRow: (row: Array<string | null>) => unknown) => {
        const names = [...query.matchAll(/'([^']+)'/g)].map((m) => m[1]);
        let n = 0;
        for (const p of this.parts.filter((x) => names.includes(x.name))) {
          p.ids.forEach((id, i) => { onRow([id, '1', '1', '0', p.name, String(i)]); n++; });
        }
        this.afterRead();
        return { readRows: n, readBytes: 0 };
      },
    } as unknown as ClickHouseReader;
  }
}

const columns = [{ name: 'id', type: 'String' }, { name: 'v', type: 'UInt64' }];
const identity = tableIdentity('db.t', 'ReplacingMergeTree', 'ReplacingMergeTree(v) ORDER BY id', 'id');
const target: PollTarget = { ...capturedTable('db', 't', columns, identity, defaultMappingOptions), ref: 1, columnsKey: null };

async function poll(table: FakeTable, state: TableState): Promise<{ state: TableState; ids: string[] }> {
  const ids: string[] = [];
  const poller = new TablePoller(table.reader(), async (job: ClickHouseJob) => { for (const r of job.rows) ids.push(String(r[0])); }, pino({ level: 'silent' }), 'UTC');
  const out = await poller.poll(target, state, 60_000, false, async (t) => t);
  return { state: out.state, ids };
}

test('a part merged away right after its rows were read counts as taken: its rows are not sent again', async () => {
  const table = new FakeTable();
  table.insert(1, ['a', 'b']);
  let state: TableState = { taken: {}, mutations: [] };
  ({ state } = await poll(table, state));
  table.insert(2, ['c']);
  table.afterRead = () => { table.afterRead = () => undefined; table.merge(); }; // 1 and 2 merge as soon as 2 was read
  const second = await poll(table, state);
  assert.deepEqual(second.ids, ['c']);
  const third = await poll(table, second.state);
  assert.deepEqual(third.ids, [], 'the merged part holds only taken blocks');
});

test('a part merged away before the read returns nothing and is not taken: the part that replaced it is read', async () => {
  const table = new FakeTable();
  table.insert(1, ['a']);
  let state: TableState = { taken: {}, mutations: [] };
  ({ state } = await poll(table, state));
  table.insert(2, ['b']);
  const reader = table.reader();
  const rows = reader.rows.bind(reader);
  // the merge happens between the poll's listing and its read
  (reader as { rows: typeof rows }).rows = async (q, onRow, s) => { table.merge(); return rows(q, onRow, s); };
  const poller = new TablePoller(reader, async () => undefined, pino({ level: 'silent' }), 'UTC');
  state = (await poller.poll(target, state, 60_000, false, async (t) => t)).state;
  const next = await poll(table, state);
  assert.deepEqual(next.ids, ['a', 'b'], 'the merged part is read whole (no block numbers): b is not lost');
});
