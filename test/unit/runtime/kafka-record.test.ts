import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { exactRecords } from '../../../runtime/kafka-record.ts';
import '../../../runtime/kafka.ts';

const require = createRequire(import.meta.url);
type Encode = (args: object) => { buffer: Buffer };

test("kafkajs' records are encoded by the exact-size encoder, byte for byte as by its own", () => {
  assert.equal(exactRecords, true);
  const path = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');
  const used = require(path) as Encode;
  delete require.cache[path];
  const own = require(path) as Encode; // a fresh load of kafkajs' own module
  require.cache[path]!.exports = used;
  assert.notEqual(used, own);
  let n = 0;
  for (const size of [0, 1, 63, 64, 127, 128, 300, 4095, 4096, 16_383, 16_384, 70_000]) {
    for (const offsetDelta of [0, 1, 63, 64, 8191, 8192, 1_000_000]) {
      const timestampDelta = [0, -1, 5, 3_600_000, -70_000][n++ % 5]!;
      const key = n % 7 === 0 ? null : Buffer.alloc(n % 40, n);
      const value = n % 11 === 0 ? null : Buffer.alloc(size, n & 0xff);
      const args = { offsetDelta, timestampDelta, key, value };
      assert.deepEqual(used(args).buffer, own(args).buffer, JSON.stringify({ size, offsetDelta, timestampDelta }));
    }
  }
});
