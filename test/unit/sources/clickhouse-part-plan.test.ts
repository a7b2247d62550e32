import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advanceTaken, covered, planPoll, untakenBlocks, type PartInfo, type TakenBlocks } from '../../../sources/clickhouse/part-plan.ts';

function part(name: string, opts: Partial<PartInfo> = {}): PartInfo {
  const [partition, min, max] = name.split('_');
  return { partition: partition!, name, minBlock: BigInt(min!), maxBlock: BigInt(max!), rows: 10, ...opts };
}
const names = (ps: PartInfo[]) => ps.map((p) => p.name);
const SETTLE = 60_000;

test('the first poll reads every part; what it read is taken', () => {
  const parts = [part('202612_1_3_1'), part('202611_4_4_0'), part('202612_5_5_0')];
  const plan = planPoll(parts, {});
  assert.deepEqual(names(plan.read), ['202611_4_4_0', '202612_1_3_1', '202612_5_5_0']);
  const taken = advanceTaken({}, plan.read, new Set(names(parts)), 1000, SETTLE);
  assert.deepEqual(planPoll(parts, taken).read, []);
});

test('a new insert is read alone; a merge of taken parts is not read again', () => {
  const first = [part('202612_1_1_0'), part('202612_2_2_0')];
  let taken = advanceTaken({}, first, new Set(names(first)), 1000, SETTLE);
  const later = [part('202612_1_2_1'), part('202612_3_3_0')];
  const plan = planPoll(later, taken);
  assert.deepEqual(names(plan.read), ['202612_3_3_0']);
  taken = advanceTaken(taken, plan.read, new Set(names(later)), 2000, SETTLE);
  assert.deepEqual(planPoll([part('202612_1_3_2')], taken).read, []);
});

test('a part merged from taken and untaken blocks is read whole', () => {
  const taken = advanceTaken({}, [part('202612_1_1_0')], new Set(['202612_1_1_0']), 1000, SETTLE);
  assert.deepEqual(names(planPoll([part('202612_1_2_1')], taken).read), ['202612_1_2_1']);
});

test('a part merged away before the read is not taken: what replaced it is read next time', () => {
  const listed = [part('202612_1_1_0'), part('202612_2_2_0')];
  // 2_2 was merged into 1_2_1 between listing and reading
  const taken = advanceTaken({}, listed, new Set(['202612_1_1_0', '202612_1_2_1']), 1000, SETTLE);
  assert.equal(covered(taken['202612'], 1n, 1n), true);
  assert.deepEqual(names(planPoll([part('202612_1_2_1')], taken).read), ['202612_1_2_1']);
});

test('an insert that becomes visible after a later one is still read within the settle time, and upTo folds after it', () => {
  let taken: TakenBlocks = advanceTaken({}, [part('202612_8_8_0')], new Set(['202612_8_8_0']), 1000, SETTLE);
  // block 7 was handed out first but committed later
  const late = [part('202612_7_7_0'), part('202612_8_8_0')];
  const plan = planPoll(late, taken);
  assert.deepEqual(names(plan.read), ['202612_7_7_0']);
  taken = advanceTaken(taken, plan.read, new Set(names(late)), 2000, SETTLE);
  assert.equal(taken['202612']!.upTo, '-1');
  taken = advanceTaken(taken, [], new Set(), 1000 + SETTLE + 1, SETTLE);
  assert.deepEqual(taken['202612'], { upTo: '8', above: [] });
});

test('gaps (blocks used by other partitions or mutations) keep a merged part uncovered until upTo passes them', () => {
  let taken = advanceTaken({}, [part('202612_1_1_0'), part('202612_3_3_0')], new Set(['202612_1_1_0', '202612_3_3_0']), 1000, SETTLE);
  assert.equal(covered(taken['202612'], 1n, 3n), false);
  taken = advanceTaken(taken, [], new Set(), 1000 + SETTLE, SETTLE);
  assert.equal(covered(taken['202612'], 1n, 3n), true);
});


test('with block numbers kept in the rows, a merged part is read for its untaken blocks only', () => {
  assert.equal(untakenBlocks(undefined), 'true');
  assert.equal(untakenBlocks({ upTo: '7', above: [] }), '_block_number > 7');
  assert.equal(untakenBlocks({ upTo: '-1', above: [['9', '9', 1], ['11', '12', 2]] }),
    '_block_number > -1 AND NOT (_block_number BETWEEN 9 AND 9 OR _block_number BETWEEN 11 AND 12)');
});
