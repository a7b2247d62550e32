import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, withRetries } from '../../../runtime/retry.ts';

test('backoff: full jitter under a cap that doubles per retry and stops at the maximum', () => {
  const policy = { baseDelayMs: 200, maxDelayMs: 2000 };
  assert.deepEqual([1, 2, 3, 4, 5].map((r) => backoffDelay(r, policy, () => 0.999999)), [199, 399, 799, 1599, 1999]);
  assert.equal(backoffDelay(3, policy, () => 0), 0);
});

test('withRetries: retries what is retriable up to its attempts, and nothing else', async () => {
  const policy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 };
  let calls = 0;
  await assert.rejects(withRetries(async () => { calls++; throw new Error('down'); }, { ...policy, retriable: () => true }), /down/);
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(withRetries(async () => { calls++; throw new Error('bad'); }, { ...policy, retriable: () => false }), /bad/);
  assert.equal(calls, 1);
  calls = 0;
  assert.equal(await withRetries(async (attempt) => { calls++; if (attempt < 2) throw new Error('once'); return 'ok'; }, { ...policy, retriable: () => true }), 'ok');
  assert.equal(calls, 2);
});
