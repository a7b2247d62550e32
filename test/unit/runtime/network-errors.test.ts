import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNetworkError } from '../../../runtime/network-errors.ts';
import { describeStoreFailure, isObjectStoreLoss } from '../../../sources/object-storage/object-store.ts';

test('a network failure is found along the cause chain, by errno code or error name', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  assert.equal(isNetworkError(refused), true);
  assert.equal(isNetworkError(new Error('wrapped', { cause: new Error('again', { cause: refused }) })), true);
  assert.equal(isNetworkError(Object.assign(new Error('t'), { name: 'TimeoutError' })), true);
  assert.equal(isNetworkError(Object.assign(new Error('denied'), { code: 'EACCES' })), false);
  assert.equal(isNetworkError(undefined), false);
});

test('object store: an unreachable or overloaded store is a loss (a new run once it is back); refused credentials are not', () => {
  const cfg = { bucket: 'b', endpoint: 'http://s3' };
  const refused = describeStoreFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), cfg, 'listing');
  assert.equal(refused.code, 'OBJECT_STORE_UNREACHABLE');
  assert.equal(isObjectStoreLoss(refused), true, 'the described error keeps its cause');
  assert.equal(isObjectStoreLoss(Object.assign(new Error('slow down'), { name: 'SlowDown' })), true);
  assert.equal(isObjectStoreLoss(Object.assign(new Error('oops'), { $metadata: { httpStatusCode: 503 } })), true);
  const denied = describeStoreFailure(Object.assign(new Error('Access Denied.'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }), cfg, 'listing');
  assert.equal(denied.code, 'OBJECT_STORE_ACCESS_DENIED');
  assert.equal(isObjectStoreLoss(denied), false);
});
