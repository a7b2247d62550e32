import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchScheduler } from '../../../sink/src/consume/batch-scheduler.ts';
import type { BatchBuffer } from '../../../sink/src/consume/batch-buffer.ts';
import type { TableEvent } from '../../../sink/src/decode/table-event.ts';
import { sleep } from '../../support/wait.ts';

interface Applied {
  topic: string;
  offsets: string[];
  epoch: number;
  finish: () => void;
  fail: (err: Error) => void;
}

/** A scheduler whose merges are held until the test finishes them. */
function harness(opts: { maxRows?: number; maxWaitMs?: number; maxBytes?: number; laneBytes?: number } = {}) {
  const applied: Applied[] = [];
  const errors: Error[] = [];
  let notify: (() => void) | undefined;
  const s = new BatchScheduler({
    maxRows: opts.maxRows ?? 100, maxBytes: opts.maxBytes ?? 1 << 30, maxWaitMs: opts.maxWaitMs ?? 20, laneBytes: opts.laneBytes,
    apply: (topic, batch: BatchBuffer) => new Promise<void>((resolve, reject) => {
      applied.push({ topic, offsets: batch.commits().map((c) => c.offset), epoch: batch.epoch, finish: resolve, fail: reject });
      notify?.();
    }),
    onError: (err) => errors.push(err),
  });
  const ev = (topic: string) => ({ topic, schema: 'public', table: topic }) as unknown as TableEvent;
  const add = (topic: string, offset: number) => s.add(topic, 0, String(offset), ev(topic), 10);
  /** waits until `n` merges have started */
  const started = async (n: number) => {
    while (applied.length < n) await new Promise<void>((r) => (notify = r));
  };
  return { s, applied, errors, add, started };
}

const tick = () => new Promise((r) => setImmediate(r));

test('a batch is not merged the moment its first event comes; the lanes of two topics merge side by side', async () => {
  const { s, applied, add, started } = harness();
  add('a', 0);
  add('b', 0);
  assert.equal(applied.length, 0, 'not merged before it is due');
  await started(2);
  assert.deepEqual(applied.map((a) => a.topic).sort(), ['a', 'b'], 'both lanes busy at once');
  assert.equal(s.busyLanes, 2);
  for (const a of applied) a.finish();
  await s.drain();
  s.stop();
});

test('a busy lane does not hold the others back, and its topic collects into one next batch, merged in order', async () => {
  const { s, applied, add, started } = harness();
  add('slow', 0);
  await started(1);
  add('slow', 1);
  add('slow', 2);
  add('fast', 0);
  await started(2);
  assert.equal(applied[1]!.topic, 'fast', 'the other table merges while the slow one is busy');
  applied[1]!.finish();
  add('fast', 1);
  await started(3);
  assert.deepEqual([applied[2]!.topic, applied[2]!.offsets], ['fast', ['2']]);
  applied[2]!.finish();
  await tick();
  assert.equal(applied.length, 3, 'the slow topic\'s next batch waits for its lane');
  applied[0]!.finish();
  await started(4);
  assert.deepEqual([applied[3]!.topic, applied[3]!.offsets], ['slow', ['3']], 'offsets 1 and 2 in one batch, after offset 0');
  applied[3]!.finish();
  await s.drain();
  s.stop();
});

test('at maxRows the consumer waits for room; lanes start only while what merges stays within maxRows', async () => {
  const { s, applied, add, started } = harness({ maxRows: 4, maxWaitMs: 60_000 });
  for (let i = 0; i < 3; i++) add('a', i);
  await s.roomForMore(); // 3 < 4: no wait, nothing merged yet (not due)
  assert.equal(applied.length, 0);
  assert.equal(s.collectedRows, 3);
  add('a', 3);
  await s.roomForMore(); // at the bound: a starts, room again
  assert.deepEqual(applied.map((a) => a.offsets), [['4']]);
  assert.equal(s.collectedRows, 0, 'what a lane took is no longer counted as collected');
  for (let i = 0; i < 3; i++) add('b', i);
  add('b', 3);
  let waited = true;
  const room = s.roomForMore().then(() => (waited = false));
  await tick();
  assert.ok(waited, 'b cannot start while a merges 4 rows (4 + 4 > maxRows): the consumer waits');
  assert.equal(applied.length, 1);
  applied[0]!.finish();
  await started(2);
  await room;
  assert.equal(applied[1]!.topic, 'b');
  applied[1]!.finish();
  await s.drain();
  s.stop();
});

test('discard drops what is collected (read again) and batches merging then carry the old generation', async () => {
  const { s, applied, add, started } = harness({ maxWaitMs: 60_000 });
  add('a', 0);
  const draining = s.drain();
  await started(1);
  const old = applied[0]!.epoch;
  add('a', 1);
  s.newGeneration(); // a rebalance: at once …
  s.dropCollected(); // … and, once the consumer's loop is done, what it collected goes
  add('a', 2);
  applied[0]!.finish();
  await started(2);
  assert.deepEqual(applied[1]!.offsets, ['3'], 'offset 1 was dropped; offset 2 came after the discard');
  assert.notEqual(applied[1]!.epoch, old);
  assert.equal(s.currentEpoch, applied[1]!.epoch);
  applied[1]!.finish();
  await draining;
  s.stop();
});

test('a failed merge is reported and its lane is free again', async () => {
  const { s, applied, errors, add, started } = harness();
  add('a', 0);
  await started(1);
  applied[0]!.fail(new Error('boom'));
  await tick();
  assert.deepEqual(errors.map((e) => e.message), ['boom']);
  assert.equal(s.busyLanes, 0);
  s.stop();
});

test('a quiet table\'s batch merges after a short linger; a table merged recently waits until maxWaitMs after that merge', { timeout: 10_000 }, async () => {
  const { s, applied, add, started } = harness({ maxWaitMs: 60_000 });
  add('a', 0);
  await started(1); // QUIET_LINGER_MS, not a minute
  applied[0]!.finish();
  await tick();
  add('a', 1);
  await sleep(500);
  assert.equal(applied.length, 1, 'its lane started a MERGE less than maxWaitMs ago');
  const draining = s.drain(); // merges what is collected, due or not
  await started(2);
  assert.deepEqual(applied[1]!.offsets, ['2']);
  applied[1]!.finish();
  await draining;
  s.stop();
});

test('a record of maxBytes or more waits until everything before it is merged and no lane is busy', async () => {
  const { s, applied, add, started } = harness({ maxBytes: 100 });
  add('a', 0);
  add('b', 0);
  let roomy = false;
  const large = s.roomFor(100).then(() => { roomy = true; });
  await started(2);
  applied[0]!.finish();
  await tick();
  assert.equal(roomy, false, 'one lane still merges');
  applied[1]!.finish();
  await large;
  assert.equal(s.busyLanes, 0);
  let small = false;
  add('a', 1);
  await s.roomFor(99).then(() => { small = true; });
  assert.equal(small, true, 'a smaller record does not wait');
  await started(3);
  applied[2]!.finish();
  await s.drain();
  s.stop();
});

test('a lane merges at most laneBytes of its batch, the oldest records first; the rest follows in the next MERGE', async () => {
  const { s, applied, add, started } = harness({ laneBytes: 25 });
  for (let i = 0; i < 5; i++) add('a', i); // 10 bytes each
  await started(1);
  assert.deepEqual(applied[0]!.offsets, ['2'], 'the two oldest records (20 bytes; a third would pass 25)');
  assert.equal(s.collectedRows, 3, 'the rest stays collected');
  add('a', 5);
  applied[0]!.finish();
  await started(2);
  assert.deepEqual(applied[1]!.offsets, ['4']);
  applied[1]!.finish();
  await started(3);
  assert.deepEqual(applied[2]!.offsets, ['6'], 'then the last two, offsets in order');
  applied[2]!.finish();
  await s.drain();
  assert.equal(s.collectedRows, 0);
  s.stop();
});
