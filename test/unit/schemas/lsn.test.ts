import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLsn, parseLsn } from '../../../schemas/src/lsn.ts';

test('LSNs parse to bigints over the whole 64-bit range, in any padding, and print as Postgres prints them', () => {
  assert.equal(parseLsn('16/B374D848'), 0x16b374d848n);
  assert.equal(parseLsn('00000016/b374d848'), 0x16b374d848n);
  assert.equal(parseLsn(' 0/0 '), 0n);
  for (const [high, low] of [[0x1fffff, 0xffffffff], [0x200000, 0], [0x200000, 1], [0xffffffff, 0xffffffff], [0x1234, 0x80000000]] as const) {
    const text = `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`;
    const lsn = parseLsn(text);
    assert.equal(lsn, (BigInt(high) << 32n) | BigInt(low), text);
    assert.equal(formatLsn(lsn), text);
  }
  for (const bad of ['16B374D848', '123456789/0', '0/123456789', 'G/0', '']) assert.throws(() => parseLsn(bad), /not an LSN/, bad);
});
