import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InboundQueue } from '../../../sources/postgres/inbound-queue.ts';

const tick = () => new Promise((r) => setImmediate(r));

test('messages are handled one at a time in order; the socket pauses above the high-water mark and resumes at half of it', async () => {
  const calls: string[] = [];
  const handled: number[] = [];
  let active = 0;
  const gates: Array<() => void> = [];
  const socket = { pause: () => calls.push('pause'), resume: () => calls.push('resume') };
  const q = new InboundQueue<number>(async (n) => {
    assert.equal(++active, 1, 'one handler at a time');
    await new Promise<void>((r) => gates.push(r));
    handled.push(n);
    active--;
  }, (err) => assert.fail(err), () => socket, { maxMessages: 10, maxBytes: 1000 });
  for (let i = 0; i < 10; i++) q.push(i, 1); // the first is being handled, nine wait
  assert.deepEqual(calls, []);
  q.push(10, 1);
  q.push(11, 1); // eleven wait: above 10
  assert.deepEqual(calls, ['pause']);
  for (let i = 0; i < 6; i++) {
    gates.shift()!();
    await tick();
  }
  assert.deepEqual(calls, ['pause'], 'six waiting: still above half');
  gates.shift()!();
  await tick();
  assert.deepEqual(calls, ['pause', 'resume'], 'five waiting: resumed');
  while (handled.length < 12) {
    gates.shift()?.();
    await tick();
  }
  assert.deepEqual(handled, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
});

test('bytes count too: a few large messages pause the socket', async () => {
  const calls: string[] = [];
  const q = new InboundQueue<number>(() => new Promise(() => {}), () => {}, () => ({ pause: () => calls.push('pause'), resume: () => calls.push('resume') }), { maxMessages: 1000, maxBytes: 1000 });
  q.push(0, 600); // handled at once (never settles)
  q.push(1, 600);
  assert.deepEqual(calls, []);
  q.push(2, 600);
  assert.deepEqual(calls, ['pause']);
});

test('a failing handler: its error is reported once and nothing after it is handled', async () => {
  const handled: number[] = [];
  const errors: Error[] = [];
  const q = new InboundQueue<number>(async (n) => {
    await tick();
    if (n === 2) throw new Error('boom');
    handled.push(n);
  }, (err) => errors.push(err), () => undefined, { maxMessages: 100, maxBytes: 1 << 20 });
  for (let i = 0; i < 6; i++) q.push(i, 1);
  for (let i = 0; i < 10; i++) await tick();
  q.push(6, 1);
  for (let i = 0; i < 5; i++) await tick();
  assert.deepEqual(handled, [0, 1]);
  assert.deepEqual(errors.map((e) => e.message), ['boom']);
});
