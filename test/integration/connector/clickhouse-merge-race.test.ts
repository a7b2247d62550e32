// The ClickHouse source's part bookkeeping against the real engine when a merge lands at the worst moment:
// right after a poll read a part and before it lists the parts again to confirm the read. The merge is made to
// happen there (OPTIMIZE … FINAL, from a hook on the reader's listing that fires once after a read) on the
// stack's ClickHouse. Without the fix (a part counts as taken when the read returned its rows) 'c' is sent twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { clickhouseFixture } from '../../support/clickhouse.ts';
import { ClickHouseReader } from '../../../sources/clickhouse/clickhouse-reader.ts';
import { TablePoller, type TableState } from '../../../sources/clickhouse/table-poller.ts';
import { capturedTable } from '../../../sources/clickhouse/captured-table.ts';
import { tableIdentity } from '../../../sources/clickhouse/table-identity.ts';
import { defaultMappingOptions } from '../../../schemas/src/pg-types.ts';
import type { ClickHouseJob } from '../../../sources/clickhouse/record-decoder.ts';
import { sleep } from '../../support/wait.ts';

test('a part merged away right after a poll read it is taken: its rows are not sent again from the merged part', async (t) => {
  const fx = await clickhouseFixture('chrace', 'none');
  t.after(() => fx.cleanup());
  await fx.exec(`CREATE TABLE ${fx.database}.t (id String, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY id
    SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1`);
  await fx.exec(`SYSTEM STOP MERGES ${fx.database}.t`); // no merge but the one the test makes
  const src = fx.source();
  const reader = new ClickHouseReader({ url: src.url!, username: src.username!, password: src.password!, requestTimeoutMs: 30_000 });
  t.after(() => reader.close());
  // once the next poll's read is done, the table's parts are merged into one before the poll lists them again
  // to confirm the read (the hook on the reader's listing fires once, after a read)
  let mergeAfterRead = false;
  let readDone = false;
  const rows = reader.rows.bind(reader);
  reader.rows = async (...args: Parameters<typeof rows>) => {
    const stats = await rows(...args);
    readDone = mergeAfterRead;
    return stats;
  };
  const parts = reader.parts.bind(reader);
  reader.parts = async (...args: Parameters<typeof parts>) => {
    if (readDone) {
      mergeAfterRead = readDone = false;
      await fx.exec(`SYSTEM START MERGES ${fx.database}.t`);
      await fx.exec(`OPTIMIZE TABLE ${fx.database}.t FINAL`);
      // the parts it replaced leave system.parts a moment after OPTIMIZE returns
      for (let i = 0; i < 100 && (await parts(...args)).length > 1; i++) await sleep(50);
    }
    return parts(...args);
  };
  const [meta] = (await reader.tables(fx.database)).filter((m) => m.name === 't');
  const identity = tableIdentity(`${fx.database}.t`, meta!.engine, meta!.engineFull, meta!.sortingKey);
  const target = { ...capturedTable(fx.database, 't', await reader.columns(fx.database, 't'), identity, defaultMappingOptions), ref: 1, columnsKey: null };
  const sent: string[] = [];
  const poller = new TablePoller(reader, async (job: ClickHouseJob) => { for (const r of job.rows) sent.push(String(r[0])); }, pino({ level: 'silent' }), 'UTC');
  const poll = async (state: TableState) => (await poller.poll(target, state, 60_000, false, async (x) => x)).state;

  await fx.insert('t', [{ id: 'a', v: 1 }, { id: 'b', v: 1 }]);
  let state = await poll({ taken: {}, mutations: [] });
  await fx.insert('t', [{ id: 'c', v: 1 }]);
  assert.equal((await reader.parts(fx.database, 't')).length, 2, 'not merged yet');
  mergeAfterRead = true;
  state = await poll(state);
  assert.equal((await reader.parts(fx.database, 't')).length, 1, 'the two parts were merged between the read and the confirming listing');
  state = await poll(state);
  state = await poll(state);
  assert.deepEqual(sent, ['a', 'b', 'c'], 'every row sent once');
});
