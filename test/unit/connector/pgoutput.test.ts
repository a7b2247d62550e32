import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePgoutput, PgoutputDecodeError, TEXT_AS_BYTES_FROM } from '../../../sources/postgres/pgoutput.ts';
import { Utf8Text } from '../../../schemas/src/utf8-text.ts';
import { UNCHANGED } from '../../../emitter/encode/change-record.ts';
import { PgoutputWriter as W } from '../../support/pgoutput-writer.ts';

const PG_EPOCH_US = 946_684_800_000_000n;

test('begin and commit carry LSNs as bigints and commit times in Unix microseconds', () => {
  const begin = decodePgoutput(new W().c('B').u64(0x16_b374d848n).u64(1_000_000n).i32(777).done());
  assert.deepEqual(begin, { tag: 'begin', finalLsn: 0x16_b374d848n, commitTimeUs: PG_EPOCH_US + 1_000_000n, xid: 777 });
  const commit = decodePgoutput(new W().c('C').u8(0).u64(10n).u64(20n).u64(5n).done());
  assert.deepEqual(commit, { tag: 'commit', flags: 0, commitLsn: 10n, endLsn: 20n, commitTimeUs: PG_EPOCH_US + 5n });
});

test('relation lists columns with key flags, type oids and modifiers', () => {
  const msg = decodePgoutput(new W().c('R').i32(16384).str('public').str('spans').c('d').i16(2)
    .u8(1).str('id').i32(20).i32(-1)
    .u8(0).str('attributes').i32(3802).i32(-1).done());
  assert.deepEqual(msg, {
    tag: 'relation', relationId: 16384, schema: 'public', table: 'spans', replicaIdentity: 'default',
    columns: [
      { isKey: true, name: 'id', typeOid: 20, typeMod: -1 },
      { isKey: false, name: 'attributes', typeOid: 3802, typeMod: -1 },
    ],
  });
});

test('tuples keep text exactly, NULL as null, and unchanged TOAST as its own marker', () => {
  const update = decodePgoutput(new W().c('U').i32(1).c('N').i16(3).text("it's ☃ \u0000").c('n').c('u').done());
  assert.equal(update.tag, 'update');
  if (update.tag !== 'update') return;
  assert.deepEqual(update.newTuple, ["it's ☃ \u0000", null, UNCHANGED]);
  assert.equal(update.oldTuple, null);
  assert.notEqual(update.newTuple[2], undefined);
});

test('update with old key, delete with full old row, truncate, logical message', () => {
  const u = decodePgoutput(new W().c('U').i32(1).c('K').i16(1).text('7').c('N').i16(1).text('8').done());
  assert.deepEqual(u, { tag: 'update', relationId: 1, oldKind: 'key', oldTuple: ['7'], newTuple: ['8'] });
  const d = decodePgoutput(new W().c('D').i32(1).c('O').i16(2).text('7').c('n').done());
  assert.deepEqual(d, { tag: 'delete', relationId: 1, oldKind: 'old', oldTuple: ['7', null] });
  const t = decodePgoutput(new W().c('T').i32(2).u8(3).i32(1).i32(2).done());
  assert.deepEqual(t, { tag: 'truncate', cascade: true, restartIdentity: true, relationIds: [1, 2] });
  const m = decodePgoutput(new W().c('M').u8(0).u64(99n).str('tracelake').i32(2).c('hi').done());
  assert.deepEqual(m, { tag: 'message', transactional: false, lsn: 99n, prefix: 'tracelake', content: Buffer.from('hi') });
});

test('unknown message types are reported, truncated messages fail clearly', () => {
  assert.deepEqual(decodePgoutput(Buffer.from('S')), { tag: 'unknown', byte: 'S'.charCodeAt(0) });
  assert.throws(() => decodePgoutput(new W().c('I').i32(1).c('N').i16(1).c('t').i32(10).c('abc').done()), PgoutputDecodeError);
});

test(`text of ${TEXT_AS_BYTES_FROM} bytes or more stays its UTF-8 bytes (a view of the message); shorter text is a string`, () => {
  const long = `${'☃ "q" \\ ${x} '.repeat(30)}😀`;
  const short = 'é'.repeat(TEXT_AS_BYTES_FROM / 2 - 1); // 254 bytes
  const msg = new W().c('I').i32(1).c('N').i16(2).text(long).text(short).done();
  const insert = decodePgoutput(msg);
  assert.equal(insert.tag, 'insert');
  if (insert.tag !== 'insert') return;
  const [a, b] = insert.newTuple;
  assert.ok(a instanceof Utf8Text);
  assert.equal(a.toString(), long);
  assert.equal(a.bytes.buffer, msg.buffer, 'a view, not a copy');
  assert.equal(b, short);
});
