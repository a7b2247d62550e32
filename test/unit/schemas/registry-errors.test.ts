import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registryError, registryUnavailable, retriableRequest } from '../../../schemas/src/registry-errors.ts';

test('registry requests are sent again on no answer, 408, 429 and 5xx; not on 4xx answers', () => {
  assert.equal(retriableRequest({ isAxiosError: true }), true, 'refused, reset or timed out: no HTTP answer');
  for (const status of [408, 429, 500, 503]) assert.equal(retriableRequest({ status }), true, String(status));
  for (const status of [400, 401, 404, 409, 422]) assert.equal(retriableRequest({ status }), false, String(status));
  assert.equal(retriableRequest(new Error('bug')), false);
});

test('a failed registry request becomes a typed error; only unavailability is retriable and not the record\'s fault', () => {
  const incompatible = registryError(Object.assign(new Error('Schema being registered is incompatible'), { status: 409 }), 'p.public.t-value');
  assert.equal(incompatible.code, 'INCOMPATIBLE_SCHEMA');
  assert.equal(registryUnavailable(incompatible), false);
  assert.equal(registryError(Object.assign(new Error('Subject not found'), { status: 404 }), 'schema id 7').code, 'SCHEMA_NOT_FOUND');
  const down = registryError(Object.assign(new Error('timeout of 5000ms exceeded'), { isAxiosError: true }), 'schema id 7');
  assert.deepEqual([down.code, down.retriable, registryUnavailable(down)], ['REGISTRY_UNAVAILABLE', true, true]);
  assert.equal(registryUnavailable(new Error('REGISTRY_UNAVAILABLE')), false, 'only the typed error');
});
