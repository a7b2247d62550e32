import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { objectMembers, arrayElements } from '../../../sources/object-storage/json-text.ts';
import { BadFileError, fileRows, Micros, type FileRow } from '../../../sources/object-storage/file-rows.ts';
import { valueText } from '../../../sources/object-storage/export-values.ts';
import { convertFile } from '../../../sources/object-storage/export-rows.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const limits = { maxBytes: 1 << 20 };
const texts = (row: FileRow) => Object.fromEntries([...row].map(([k, v]) => [k, valueText(v, 'string')]));

test('JSON members keep their exact text: numbers past 2^53, spacing, escapes, nested JSON in JSON', () => {
  const line = '{"id":"a\\"b","n":12345678901234567890,"f":1.50,"o":{ "k" : [1, "x}"] },"s":"{\\"in\\":\\"${x}\\"}","z":null}';
  const m = objectMembers(line);
  assert.deepEqual([...m.keys()], ['id', 'n', 'f', 'o', 's', 'z']);
  assert.equal(m.get('id')!.string, 'a"b');
  assert.equal(m.get('n')!.text, '12345678901234567890');
  assert.equal(m.get('f')!.text, '1.50');
  assert.equal(m.get('o')!.text, '{ "k" : [1, "x}"] }');
  assert.equal(m.get('s')!.string, '{"in":"${x}"}');
  assert.equal(m.get('z')!.isNull, true);
  assert.deepEqual(arrayElements(' [ {"a":1} , {"b":"]"} ] ').length, 2);
});

test('JSONL, JSON and CSV rows, plain and gzip; empty files have no rows', async () => {
  const hostile = 'quote " backslash \\ ${interp} \u0001 😀 \u202ERTL {"json":"in json"}\nline2';
  const jsonl = `${JSON.stringify({ id: '1', input: hostile })}\r\n\n${JSON.stringify({ id: '2', input: null })}\n`;
  const rows = await fileRows(gzipSync(enc(jsonl)), 'jsonl', true, limits);
  assert.deepEqual(rows.map(texts), [{ id: '1', input: hostile }, { id: '2', input: null }]);
  const json = await fileRows(enc(JSON.stringify([{ id: '1', input: hostile }])), 'json', false, limits);
  assert.deepEqual(json.map(texts), [{ id: '1', input: hostile }]);
  const csv = `"id","input"\n"1","${hostile.replaceAll('"', '""')}"\n`;
  assert.deepEqual((await fileRows(enc(csv), 'csv', false, limits)).map(texts), [{ id: '1', input: hostile }]);
  for (const [text, format] of [['', 'jsonl'], ['[]', 'json'], ['', 'csv']] as const) {
    assert.deepEqual(await fileRows(enc(text), format, false, limits), []);
    assert.deepEqual(await fileRows(gzipSync(enc(text)), format, true, limits), []);
  }
});

test('a malformed or truncated file is a BadFileError that says where', async () => {
  await assert.rejects(fileRows(enc('{"id":"1"}\n{"id":'), 'jsonl', false, limits), (e: Error) => e instanceof BadFileError && /line 2/.test(e.message));
  await assert.rejects(fileRows(gzipSync(enc('{"id":"1"}\n')).subarray(0, 12), 'jsonl', true, limits), BadFileError);
  await assert.rejects(fileRows(enc('PAR1 not really'), 'parquet', false, limits), BadFileError);
  await assert.rejects(fileRows(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]), 'jsonl', false, limits), /not valid UTF-8/);
  await assert.rejects(fileRows(enc('"a","b"\n"1"\n'), 'csv', false, limits), BadFileError);
});

test('values become their column\'s text: ClickHouse and ISO timestamps, Parquet micros, numbers, booleans, string arrays', () => {
  assert.equal(valueText('2026-08-22 07:39:59.123', 'timestamp'), String(Date.UTC(2026, 7, 22, 7, 39, 59) * 1000 + 123_000));
  assert.equal(valueText('2026-08-22T07:39:59.123456+02:00', 'timestamp'), String(Date.UTC(2026, 7, 22, 5, 39, 59) * 1000 + 123_456));
  assert.equal(valueText(new Micros(1_790_000_000_123_456n), 'timestamp'), '1790000000123456');
  assert.equal(valueText('', 'timestamp'), null);
  assert.equal(valueText('', 'string'), '');
  assert.equal(valueText(10n, 'long'), '10');
  assert.equal(valueText('0.000000100000', 'double'), '1e-7');
  assert.equal(valueText('true', 'boolean'), 'true');
  assert.equal(valueText(['a', 'b"'], 'strings'), '["a","b\\""]');
  assert.equal(valueText('["a","b"]', 'strings'), '["a","b"]');
  assert.equal(valueText({ input: 10n, output: 2 }, 'json'), '{"input":10,"output":2}');
  assert.throws(() => valueText('soon', 'timestamp'), /not a timestamp/);
  assert.throws(() => valueText('1.5', 'long'), /not an integer/);
  assert.throws(() => valueText('0x10', 'double'), /not a number/);
  assert.equal(valueText('-2.5E3', 'double'), '-2500');
});

test('a file converts whole: version from updated_at else the export\'s time, later exports order after earlier ones, new columns added', () => {
  const unitTimeUs = BigInt(Date.UTC(2026, 7, 22, 7, 40)) * 1000n;
  const rows: FileRow[] = [
    new Map<string, unknown>([['id', 'a'], ['project_id', 'p'], ['updated_at', '2026-08-22 07:39:00.000'], ['extra_col', 1.5]]) as FileRow,
    new Map<string, unknown>([['id', 'b'], ['project_id', 'p']]) as FileRow,
  ];
  const c = convertFile(rows, [{ name: 'id', kind: 'string' }, { name: 'project_id', kind: 'string' }, { name: 'updated_at', kind: 'timestamp' }],
    { key: ['project_id', 'id'], version: 'updated_at' }, { file: 'f', table: 'traces', unitTimeUs, firstRow: 5 });
  assert.deepEqual(c.added, [{ name: 'extra_col', kind: 'double' }]);
  assert.deepEqual(c.rows, [['a', 'p', String(Date.UTC(2026, 7, 22, 7, 39) * 1000), '1.5'], ['b', 'p', null, null]]);
  assert.deepEqual(c.versions, [BigInt(Date.UTC(2026, 7, 22, 7, 39)) * 1000n, unitTimeUs]);
  assert.ok(c.seqs[1]! === c.seqs[0]! + 1n);
  assert.equal(rows[0]!.size, 0, 'the rows are consumed as they are converted');
  const later = convertFile([new Map([['id', 'b'], ['project_id', 'p']]) as FileRow], c.columns, { key: ['project_id', 'id'] }, { file: 'g', table: 'traces', unitTimeUs: unitTimeUs + 1_000_000n, firstRow: 0 });
  assert.ok(later.seqs[0]! > c.seqs[1]!, 'a later export orders after an earlier one');
  assert.throws(() => convertFile([new Map([['project_id', 'p']]) as FileRow], c.columns, { key: ['project_id', 'id'] }, { file: 'f', table: 'traces', unitTimeUs, firstRow: 0 }),
    /row 1 has no id, the key of traces/);
  assert.throws(() => convertFile([new Map([['id', 'x'], ['project_id', 'p'], ['updated_at', 'yesterday']]) as FileRow], c.columns, { key: ['id'], version: 'updated_at' },
    { file: 'f', table: 'traces', unitTimeUs, firstRow: 0 }), /row 1, column updated_at/);
});
