import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { nativeCrc32c } from '../../../runtime/kafka-crc32c.ts';
import '../../../runtime/kafka.ts';

const require = createRequire(import.meta.url);

test('kafkajs checksums record batches with the native CRC-32C, which agrees with its own', () => {
  assert.equal(nativeCrc32c, true);
  const used = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;
  const own = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;
  assert.equal(used(Buffer.from('123456789')), 0xe3069283, 'the CRC-32C check value');
  for (let n = 0; n < 50; n++) {
    const buf = Buffer.from(Array.from({ length: n * 97 }, (_, i) => (i * 31 + n) & 0xff));
    assert.equal(used(buf), own(buf) >>> 0);
  }
  // kafkajs' own export wraps its JS function in `unsigned(…)`; the module now exports the native one
  assert.doesNotMatch(used.toString(), /unsigned/);
});
