import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deadline } from '../../../runtime/bounded.ts';

test('deadline: the value in time, the timeout error otherwise; a late rejection is not unhandled', async () => {
  assert.equal(await deadline(Promise.resolve(7), 50, () => new Error('late')), 7);
  await assert.rejects(deadline(new Promise((_, reject) => setTimeout(() => reject(new Error('too late to matter')), 80)), 20, () => new Error('timed out')), /timed out/);
  await new Promise((r) => setTimeout(r, 100)); // the rejection after the deadline happened and was absorbed
});
