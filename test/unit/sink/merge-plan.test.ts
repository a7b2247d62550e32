import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insertOnly, planMerges, planTombstones, rowCells, type TablePlanInput } from '../../../sink/src/plan/merge-plan.ts';
import { literalParts, PART_CHARS, STAGED_PART_BYTES } from '../../../sink/src/plan/staged-merge.ts';
import { foldBatch } from '../../../sink/src/fold/fold-batch.ts';
import type { TableEvent } from '../../../sink/src/decode/table-event.ts';
import { deltaType } from '../../../sink/src/delta/column-types.ts';
import type { FoldedRow } from '../../../sink/src/fold/fold-batch.ts';

const plan = (maxStatementBytes: number, maxStatementRows: number): TablePlanInput => ({
  target: 's.t', tombstones: 's.t__tombstones', staged: 's.t__staged', deleteMode: 'hard', maxStatementBytes, maxStatementRows,
  columns: [
    { field: 'id', name: 'id', isKey: true, type: deltaType('long', 'id') },
    { field: 'body', name: 'body', isKey: false, type: deltaType('string', 'body') },
  ],
});
const row = (id: number, body: string): FoldedRow => ({
  keyJson: String(id), op: 'upsert', values: { id: BigInt(id), body }, unchanged: new Set(), commitLsn: 1n, seq: BigInt(id), sourceTsMs: 0n, events: [],
});

/** The rows a statement carries: its one raw literal r'…' (no escapes to undo), parsed as JSON. */
function carried(sql: string): Array<Record<string, unknown>> {
  const m = /VALUES \(r'([^']*)'\) AS j\(doc\)/.exec(sql);
  assert.ok(m, sql.slice(0, 300));
  return JSON.parse(m[1]!) as Array<Record<string, unknown>>;
}

test('statements are split by rows and by bytes; every row lands in exactly one', () => {
  const rows = Array.from({ length: 10 }, (_, i) => row(i, 'x'.repeat(100)));
  assert.equal([...planMerges(plan(1 << 20, 3), rows)].length, 4);
  const bySize = [...planMerges(plan(2000, 1000), rows)];
  assert.ok(bySize.length > 1 && bySize.every((s) => Buffer.byteLength(s) <= 2000));
  const ids = bySize.flatMap((s) => carried(s).map((r) => r.c0 as number));
  assert.deepEqual(ids.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('hostile text stays inside the one literal and arrives byte-identical', () => {
  const hostile = "'); DROP TABLE s.t; --\\' \" \u0000\n ☃ 😀";
  const [sql] = planMerges(plan(1 << 20, 100), [row(1, hostile), row(2, 'ok')]);
  assert.ok(sql!.includes('\\u0027); DROP'), 'the quote is written as a JSON escape');
  assert.deepEqual(carried(sql!).map((r) => r.c1), [hostile, 'ok']);
  assert.match(sql!, /'ARRAY<STRUCT<c0: BIGINT, c1: STRING, _op: STRING, /);
});

test('text the engine would rewrite before parsing (${…} variable substitution) never reaches the statement text', () => {
  const values = ['${interp}', 'a${hivevar:y}b', '${env:HOME}', '${system:user.name}', '${spark:spark.app.name}', '$${x}}', 'cost: $5', '{"${key}": "${value}"}'];
  const rows = values.map((v, i) => row(i, v));
  const [sql] = planMerges(plan(1 << 20, 100), rows);
  assert.ok(!sql!.includes('$'), 'no dollar sign in the MERGE text: each is written \\u0024 inside its JSON string');
  assert.deepEqual(carried(sql!).map((r) => r.c1), values, 'from_json reads them back byte for byte');
  const textKey: TablePlanInput = { ...plan(1 << 20, 100), columns: [{ field: 'k', name: 'k', isKey: true, type: deltaType('string', 'k') }] };
  const tombstones = [...planTombstones(textKey, [{ ...row(0, 'x'), op: 'delete', values: { k: 'key ${with:substitution}' } }])];
  assert.equal(tombstones.length, 1);
  assert.ok(!tombstones[0]!.includes('$'), 'nor in a tombstone statement (key columns)');
});

test('cells of every type are JSON that keeps the value exactly', () => {
  const t = (avro: unknown, v: unknown) => deltaType(avro as never, 'x').json(v);
  assert.equal(t('long', 9223372036854775807n), '9223372036854775807');
  assert.equal(t('double', 0.1), '0.1');
  assert.equal(t('double', Number.NaN), '"NaN"');
  assert.equal(t('float', -Infinity), '"-Infinity"');
  assert.equal(t('double', -0), '-0.0');
  assert.equal(t('double', 5e-324), '5e-324');
  assert.equal(t('bytes', Buffer.from([0, 255])), '"AP8="');
  assert.equal(t({ type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }, Buffer.from([0xff, 0x85])), '"-1.23"');
  assert.equal(t({ type: 'array', items: ['null', 'string'] }, ['a', null, 'b"']), '["a",null,"b\\""]');
  const dec = deltaType({ type: 'array', items: { type: 'bytes', logicalType: 'decimal', precision: 4, scale: 1 } } as never, 'x');
  assert.equal(dec.cellType, 'ARRAY<STRING>');
  assert.equal(dec.project('r'), 'transform(r, x -> CAST(x AS DECIMAL(4,1)))');
  assert.equal(deltaType('string', 'x').project('r'), 'r');
});

test('a batch of inserts only gets an insert-only MERGE; anything else, or soft deletes, the full one', () => {
  const ev = (op: TableEvent['op'], id: number, seq: number): TableEvent => ({
    topic: 't', partition: 0, offset: '0', raw: { key: null, value: null }, key: { id: BigInt(id) }, op, row: { id: BigInt(id), body: 'x' },
    unchanged: [], commitLsn: 10n, seq: BigInt(seq), sourceTsMs: 0n, schema: 's', table: 't', columns: [], keyFields: ['id'],
  });
  const statement = (events: TableEvent[], mode: 'hard' | 'soft' = 'hard') => planMerges({ ...plan(1 << 20, 100), deleteMode: mode }, foldBatch(events).rows).next().value!;
  const inserts = statement([ev('c', 1, 0), ev('c', 2, 1)]);
  assert.ok(!inserts.includes('WHEN MATCHED'), inserts);
  assert.match(inserts, /WHEN NOT MATCHED AND s\._op = 'upsert' THEN INSERT/);
  assert.match(inserts, /LEFT ANTI JOIN s\.t__tombstones/, 'a replayed insert of a deleted key is still held back');
  for (const events of [[ev('c', 1, 0), ev('u', 2, 1)], [ev('d', 1, 0), ev('c', 1, 1)], [ev('r', 1, 0)]]) {
    assert.match(statement(events), /WHEN MATCHED AND s\._op = 'upsert'/, events.map((e) => e.op).join());
  }
  assert.match(statement([ev('c', 1, 0)], 'soft'), /WHEN MATCHED/);
  assert.equal(insertOnly({ deleteMode: 'hard' }, []), false);
});

test('a row larger than a statement: staged parts within the limit whose text joins to the row, then MERGE and clean-up', () => {
  const p = plan(2048, 100);
  const body = '😀\\x'.repeat(3000);
  const statements = [...planMerges(p, [row(1, body), row(2, 'small')])];
  assert.match(statements[0]!, /^CREATE TABLE IF NOT EXISTS s\.t__staged /);
  const inserts = statements.filter((s) => s.startsWith('INSERT INTO s.t__staged'));
  assert.ok(inserts.length >= 8, String(inserts.length));
  const parts = inserts.map((s) => /, r'(.*)', current_timestamp\(\)\)$/s.exec(s)![1]!);
  assert.equal(parts.join(''), rowCells(p, row(1, body)), 'the parts joined are the row\'s text');
  const merges = statements.filter((s) => s.startsWith('MERGE INTO s.t '));
  assert.equal(merges.length, 2, 'the staged row, then the small one in a statement of its own');
  assert.match(merges[0]!, /FROM s\.t__staged WHERE token = '1\.1'/);
  assert.ok(statements.indexOf(merges[0]!) < statements.findIndex((s) => s.startsWith('DELETE FROM s.t__staged')));
  for (const s of statements) assert.ok(Buffer.byteLength(s) <= 2048, `${Buffer.byteLength(s)} bytes`);
});

test(`staged parts stay within ${STAGED_PART_BYTES / (1 << 20)} MiB under the default 15 MiB statements (each part is held several times over while it is sent)`, () => {
  const p = plan(15 << 20, 100);
  // past a 15 MiB statement (~17 MB) in fewer characters than PART_CHARS (one JSON string): one-byte text, then 3-byte
  const body = `${'b64 "q" \\ '.repeat(60_000)}${'☃'.repeat(5_500_000)}`;
  const inserts = [...planMerges(p, [row(1, body)])].filter((s) => s.startsWith('INSERT INTO s.t__staged'));
  assert.ok(inserts.length >= 2, String(inserts.length));
  for (const s of inserts) assert.ok(Buffer.byteLength(s) <= STAGED_PART_BYTES, `${Buffer.byteLength(s)} bytes`);
  const parts = inserts.map((s) => /, r'(.*)', current_timestamp\(\)\)$/s.exec(s)![1]!);
  assert.equal(parts.join(''), rowCells(p, row(1, body)), 'the parts joined are the row\'s text');
});

test('literalParts cuts between characters only and joins back to the text', () => {
  const text = 'a😀é\\€'.repeat(100);
  for (const max of [4, 5, 7, 64]) {
    const pieces = [...literalParts([text], max)];
    assert.equal(pieces.join(''), text);
    for (const piece of pieces) {
      assert.ok(Buffer.byteLength(piece) <= max);
      assert.ok(!piece.includes('\ufffd'), 'no character cut in half');
    }
  }
  assert.throws(() => [...literalParts(['😀'], 3)], /cannot hold one character/);
  // no piece ends in an odd run of backslashes (a parser without raw literals would read \' as an escaped quote)
  const slashes = 'ab\\\\\\c\\d\\\\e\\'.repeat(50);
  for (const max of [2, 3, 4, 5, 8, 13]) {
    const pieces = [...literalParts([slashes], max)];
    assert.equal(pieces.join(''), slashes);
    for (const piece of pieces.slice(0, -1)) assert.equal((/\\*$/.exec(piece)![0].length) % 2, 0, JSON.stringify(piece));
  }
});

test('a string past the engine\'s JSON string limit travels as an array of parts joined back by array_join', () => {
  const p = plan(4 << 20, 100);
  const body = `${'a'.repeat(PART_CHARS - 1)}😀${"'$\\".repeat(10)}`; // the pair straddles the first cut: it stays whole
  const statements = [...planMerges(p, [row(1, body)])];
  const parts = statements.filter((s) => s.startsWith('INSERT INTO s.t__staged')).map((s) => /, r'(.*)', current_timestamp\(\)\)$/s.exec(s)![1]!);
  const doc = JSON.parse(parts.join('')) as { c1: string[]; _op: string };
  assert.deepEqual(doc.c1.map((x) => x.length), [PART_CHARS - 1, 2 + 30]);
  assert.equal(doc.c1.join(''), body, 'the parts joined are the value');
  assert.equal(doc._op, 'upsert');
  const merge = statements.find((s) => s.startsWith('MERGE INTO s.t '))!;
  assert.match(merge, /c1: ARRAY<STRING>/);
  assert.match(merge, /array_join\(v\.c1, ''\) AS `body`/);
  assert.match(merge, /c0: BIGINT/, 'other columns keep their cell type');
});

test('literalParts joins texts and cuts them like one text', () => {
  const texts = ['{"a":"', 'x😀'.repeat(500), '\\\\\\', 'é'.repeat(300), '"}'];
  const whole = texts.join('');
  const parts = [...literalParts(texts, 64)];
  assert.equal(parts.join(''), whole);
  assert.deepEqual(parts, [...literalParts([whole], 64)]);
});

test('a MERGE bounds the target by the range of its rows\' orderable keys, in literals; no range over a null key', async () => {
  const { keyRanges, mergeStatement } = await import('../../../sink/src/plan/merge-plan.ts');
  const p = plan(1 << 20, 100);
  const rows = [row(42, 'a'), row(-7, 'b'), row(9_000_000_000, 'c')];
  assert.deepEqual(keyRanges(p, rows), ['t.`id` BETWEEN -7L AND 9000000000L']);
  assert.match(mergeStatement(p, rows, { rows: ['{}'] }), /ON t\.`id` <=> s\.`id` AND t\.`id` BETWEEN -7L AND 9000000000L\n/);
  assert.deepEqual(keyRanges(p, [...rows, { ...row(1, 'n'), values: { id: null, body: 'n' } }]), [], 'a null key: no range');
  const ts = { field: 'at', name: 'at', isKey: true, type: deltaType({ type: 'long', logicalType: 'timestamp-micros' } as never, 'at') };
  const day = { field: 'd', name: 'd', isKey: true, type: deltaType({ type: 'int', logicalType: 'date' } as never, 'd') };
  const withTime = { ...p, columns: [...p.columns, ts, day] };
  const at = (us: bigint, d: number): FoldedRow => ({ ...row(1, 'x'), values: { id: 1n, body: 'x', at: us, d } });
  assert.deepEqual(keyRanges(withTime, [at(1_700_000_000_000_001n, 19_000), at(-1n, -1)]), [
    't.`id` BETWEEN 1L AND 1L',
    "t.`at` BETWEEN TIMESTAMP'1969-12-31T23:59:59.999999Z' AND TIMESTAMP'2023-11-14T22:13:20.000001Z'",
    "t.`d` BETWEEN DATE'1969-12-31' AND DATE'2022-01-08'",
  ]);
  assert.deepEqual(keyRanges(withTime, [at(300_000_000_000_000_000n, 0)]).length, 2, 'a time past year 9999 has no literal: no range for it');
  const text = { ...p, columns: [{ ...p.columns[0]!, isKey: false }, { ...p.columns[1]!, isKey: true }] };
  assert.deepEqual(keyRanges(text, rows), [], 'string keys get none');
});
