// Column text the Postgres source keeps as UTF-8 bytes (schemas/src/utf8-text.ts): converted, measured, compared
// and reported exactly as the same text as a string would be.
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Utf8Text, sameValue } from '../../../schemas/src/utf8-text.ts';
import { tupleToRow } from '../../../emitter/encode/row.ts';
import { deadLetterRecord, describeKey, findOversize } from '../../../emitter/encode/row-limits.ts';
import { buildTable, type TableSource } from '../../../sources/postgres/record-decoder.ts';

const source: TableSource = {
  schema: 'public', table: 'spans',
  columns: [{ name: 'k', typeOid: 25, typeMod: -1 }, { name: 'attributes', typeOid: 3802, typeMod: -1 }, { name: 'ids', typeOid: 1016, typeMod: -1 }],
  keyColumns: ['k'],
  types: [
    { oid: 25, schema: 'pg_catalog', name: 'text', kind: 'b' }, { oid: 3802, schema: 'pg_catalog', name: 'jsonb', kind: 'b' },
    { oid: 1016, schema: 'pg_catalog', name: '_int8', kind: 'b', element: { oid: 20, schema: 'pg_catalog', name: 'int8', kind: 'b' } },
  ],
  mapping: { decimalMode: 'precise', unknownTypes: 'fail' },
};
const table = buildTable(source);
const bytes = (s: string) => new Utf8Text(Buffer.from(s));
const key = `k ${'${x} 😀 '.repeat(40)}`;
const json = JSON.stringify({ prompt: 'é "q" \\ \u202e'.repeat(100) });
const ids = `{${Array.from({ length: 100 }, (_, i) => 2 ** 53 + i).join(',')}}`;

test('text columns keep the bytes for the Avro writer; other types are converted from the decoded text', () => {
  const row = tupleToRow(table, [bytes(key), bytes(json), bytes(ids)]);
  assert.ok(row.record.k instanceof Utf8Text && row.record.attributes instanceof Utf8Text, 'text and jsonb pass as they are');
  assert.equal(String(row.record.attributes), json);
  assert.deepEqual(row.record.ids, tupleToRow(table, [key, json, ids]).record.ids, 'an int8[] is parsed as from a string');
});

test('bytes that are not UTF-8 are decoded as before (U+FFFD), never written as they are', () => {
  const invalid = new Utf8Text(Buffer.from([0x61, 0xff, 0x62]));
  assert.equal(invalid.wellFormed, false);
  assert.equal(tupleToRow(table, [invalid, null, null]).record.k, 'a\ufffdb');
});

test('size limits, key descriptions and dead-letter records see the same text either way', () => {
  const limits = { maxColumnBytes: Buffer.byteLength(json) - 1, maxRowBytes: 1 << 20 };
  assert.deepEqual(findOversize(table, [bytes(key), bytes(json), null], limits), findOversize(table, [key, json, null], limits));
  assert.equal(findOversize(table, [bytes(key), bytes(json), null], limits)?.bytes, Buffer.byteLength(json));
  assert.equal(describeKey(table, [bytes(key), null, null]), `k=${key}`);
  const found = findOversize(table, [key, json, null], limits)!;
  const position = { commit_lsn: '1', tx_seq: '0', lsn: null, tx_id: null, commit_ts_us: '0', snapshot: 'false' as const };
  const fromBytes = JSON.parse(deadLetterRecord(table, [bytes(key), bytes(json), null], found, 'c', position).toString());
  assert.deepEqual(fromBytes, JSON.parse(deadLetterRecord(table, [key, json, null], found, 'c', position).toString()));
  assert.equal(fromBytes.columns.attributes.sha256, createHash('sha256').update(json).digest('hex'));
});

test('raw values compare by content: a key kept as bytes has not changed when its text has not', () => {
  assert.ok(sameValue(bytes(key), bytes(key)));
  assert.ok(sameValue(bytes(key), key) && sameValue(key, bytes(key)));
  assert.ok(!sameValue(bytes(key), bytes(`${key}!`)));
  assert.ok(!sameValue(bytes('1'), null) && sameValue(null, null) && sameValue('a', 'a'));
});
