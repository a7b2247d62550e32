import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTACH_FROM, ChangeItemsWriter } from '../../../sources/postgres/change-items.ts';
import type { TableDefinition } from '../../../emitter/encode/event-encoder.ts';
import { DEAD_LETTER, INDEX_STRIDE, OPS, TOMBSTONE, type EncodedBatch } from '../../../emitter/encode/encoded-output.ts';
import type { SourceJob } from '../../../emitter/encode/change-record.ts';
import { buildTable, createRecordDecoder, type PostgresJob, type TableSource } from '../../../sources/postgres/record-decoder.ts';
import { InlineEncoder, ThreadEncoder, type Encoder } from '../../../emitter/encode/encoder.ts';
import { bySize } from '../../../emitter/emitter.ts';
import { changeEvent } from '../../../emitter/encode/change-event.ts';
import { avroType } from '../../../schemas/src/avro/types.ts';
import { keySchema, valueSchema } from '../../../schemas/src/envelope.ts';
import { encodeWire } from '../../../schemas/src/wire-format.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';
import { PgoutputWriter as W } from '../../support/pgoutput-writer.ts';

const source: TableSource = {
  schema: 'public', table: 'spans',
  columns: [{ name: 'id', typeOid: 23, typeMod: -1 }, { name: 'name', typeOid: 25, typeMod: -1 }, { name: 'day', typeOid: 1082, typeMod: -1 }],
  keyColumns: ['id'],
  types: [{ oid: 23, schema: 'pg_catalog', name: 'int4', kind: 'b' }, { oid: 25, schema: 'pg_catalog', name: 'text', kind: 'b' }, { oid: 1082, schema: 'pg_catalog', name: 'date', kind: 'b' }],
  mapping: { decimalMode: 'precise', unknownTypes: 'fail' },
};
const schema = buildTable(source);
const def: TableDefinition = { ref: 7, description: source, keyId: 11, keySchema: keySchema('p', schema), valueId: 12, valueSchema: valueSchema('p', schema) };
const keyType = avroType(def.keySchema);
const valueType = avroType(def.valueSchema);
const settings = {
  source: { connector: 'tracelake-postgresql', name: 'p', db: 'd' }, tombstonesOnDelete: true, limits: { maxColumnBytes: 16 << 20, maxRowBytes: 64 << 20 },
  decoder: new URL('../../../sources/postgres/record-decoder.ts', import.meta.url).href,
};
/** A Postgres job as the source hands it over (a changes job's buffer moves to the encoder's thread). */
const asJob = (j: PostgresJob): SourceJob => ({ payload: j, transfer: j.kind === 'changes' ? [j.items, ...j.attached] : [] });

const insert = (id: string, name: string, day = '2026-11-22') => new W().c('I').i32(1).c('N').i16(3).text(id).text(name).text(day).done();
const updateKey = (from: string, to: string) => new W().c('U').i32(1).c('K').i16(3).text(from).c('n').c('n').c('N').i16(3).text(to).text('moved').c('n').done();
const del = (id: string) => new W().c('D').i32(1).c('K').i16(3).text(id).c('n').c('n').done();

/** The messages of an encoded batch: op, key and value decoded (ts_ms dropped: it is the encoding time). */
function decoded(batch: EncodedBatch) {
  const buf = Buffer.from(batch.bytes);
  const out = [];
  for (let i = 0; i < batch.index.length; i += INDEX_STRIDE) {
    const [ref, op, keyOff, keyLen, valueOff, valueLen] = batch.index.subarray(i, i + INDEX_STRIDE);
    const key = keyLen! < 0 ? null : buf.subarray(keyOff!, keyOff! + keyLen!);
    const value = valueLen! < 0 ? null : buf.subarray(valueOff!, valueOff! + valueLen!);
    assert.equal(ref, 7);
    for (const [b, id] of [[key, 11], [value, 12]] as const) if (b) assert.deepEqual([b[0], b.readInt32BE(1)], [0, id], 'wire format: magic byte and schema id');
    const v = value && (valueType.fromBuffer(value.subarray(5)) as Record<string, unknown>);
    if (v) delete v.ts_ms;
    out.push({ op: op === TOMBSTONE ? 'tombstone' : OPS[op!], key: key && { ...keyType.fromBuffer(key.subarray(5)) }, value: v && (plain(v) as Record<string, unknown>) });
  }
  return out;
}

/** avsc decodes records as class instances: plain objects compare by value */
const plain = (v: unknown): unknown => (v && typeof v === 'object' && !Buffer.isBuffer(v) && !Array.isArray(v)
  ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v);

function changesJob() {
  const w = new ChangeItemsWriter(16); // tiny: grows while writing
  w.begin(500n, 42, 1_700_000_000_000_000n);
  w.change(7, 100n, insert('1', 'a'));
  w.change(7, 110n, updateKey('1', '2'));
  w.change(7, 120n, del('2'));
  w.truncate(7, 130n);
  return { kind: 'changes' as const, ...w.take() };
}

async function encodeBoth(run: (e: Encoder) => Promise<EncodedBatch>) {
  const inline = new InlineEncoder(settings, createRecordDecoder());
  const thread = new ThreadEncoder(settings);
  try {
    for (const e of [inline, thread]) e.define(def);
    return [await run(inline), await run(thread)];
  } finally {
    await thread.close();
  }
}

test('row changes: decoded, enveloped and Avro-encoded in WAL order, the same on the worker thread as inline', async () => {
  const [inline, thread] = await encodeBoth((e) => e.encode(asJob(changesJob())));
  const msgs = decoded(inline!);
  assert.deepEqual(msgs.map((m) => m.op), ['c', 'd', 'tombstone', 'c', 'd', 'tombstone', 't'], 'a key change is a delete and a create; deletes are followed by tombstones');
  assert.deepEqual(msgs.map((m) => m.key), [{ id: 1 }, { id: 1 }, { id: 1 }, { id: 2 }, { id: 2 }, { id: 2 }, null]);
  const source = (m: (typeof msgs)[number]) => m.value && (m.value.source as Record<string, unknown>);
  assert.deepEqual(msgs.filter((m) => m.value).map((m) => [source(m)!.tx_seq, source(m)!.lsn, source(m)!.commit_lsn, source(m)!.txId]), [
    [0n, 100n, 500n, 42n], [1n, 110n, 500n, 42n], [2n, 110n, 500n, 42n], [3n, 120n, 500n, 42n], [4n, 130n, 500n, 42n],
  ]);
  assert.deepEqual(msgs[3]!.value!.after, { id: 2, name: 'moved', day: null });
  assert.deepEqual(decoded(thread!), msgs, 'the worker thread encodes exactly the same messages');
});

test('a large row change is moved into the job, not copied, and encodes as a packed one does, on both threads', async () => {
  const long = `${'☃ "q" \\ ${x} '.repeat(ATTACH_FROM / 10)}😀`;
  /** the job of a large insert and a small one; `own`: the large one in a buffer of its own (as the stream hands it over) */
  const job = (own: boolean) => {
    const message = insert('3', long);
    const big = own ? Buffer.from(new Uint8Array(message)) : Buffer.concat([message, Buffer.alloc(8)]).subarray(0, message.length);
    const w = new ChangeItemsWriter();
    w.begin(500n, 42, 1_700_000_000_000_000n);
    w.change(7, 100n, big);
    w.change(7, 110n, insert('4', 'small'));
    assert.ok(w.bytes >= big.length, 'the job size counts the large change');
    const taken = { kind: 'changes' as const, ...w.take() };
    if (own) assert.deepEqual([taken.attached[0] === big.buffer, taken.length < 200], [true, true], 'attached as it is');
    else assert.deepEqual([taken.attached.length, taken.length > big.length], [0, true], 'a view into a larger buffer is copied in');
    return taken;
  };
  const [inline, thread] = await encodeBoth((e) => e.encode(asJob(job(true))));
  const [packed] = await encodeBoth((e) => e.encode(asJob(job(false))));
  assert.deepEqual(decoded(inline!).map((m) => (m.value?.after as { name: string }).name), [long, 'small']);
  assert.deepEqual(decoded(thread!), decoded(inline!));
  assert.deepEqual(decoded(packed!), decoded(inline!));
});

test('the bytes are those of the envelope builder and encodeWire (the path the encoder replaced)', async () => {
  const rows = [['5', 'x', '2026-01-02'], ['6', null, null]];
  const [batch] = await encodeBoth((e) => e.encode(asJob({ kind: 'rows', ref: 7, rows, commitLsn: 900n, seq: 40n, commitTimeUs: 2_000_000n })));
  const buf = Buffer.from(batch!.bytes);
  rows.forEach((row, n) => {
    const i = n * INDEX_STRIDE;
    const value = buf.subarray(batch!.index[i + 4]!, batch!.index[i + 4]! + batch!.index[i + 5]!);
    const ts = (valueType.fromBuffer(value.subarray(5)) as { ts_ms: bigint }).ts_ms;
    const ev = changeEvent(settings.source, schema, 'r', null, row, { commitLsn: 900n, seq: 40n + BigInt(n), lsn: null, txId: null, commitTimeUs: 2_000_000n, snapshot: 'true' }, ts);
    assert.deepEqual(value, encodeWire({ id: 12, type: valueType }, ev.envelope));
    assert.deepEqual(buf.subarray(batch!.index[i + 2]!, batch!.index[i + 2]! + batch!.index[i + 3]!), encodeWire({ id: 11, type: keyType }, ev.key));
  });
});

test('a value that cannot be converted fails its job with the code and remedy it was thrown with, across the thread too', async () => {
  const w = new ChangeItemsWriter();
  w.begin(1n, 1, 0n);
  w.change(7, 2n, insert('1', 'a', 'infinity'));
  const bad = { kind: 'changes' as const, ...w.take() };
  const copy = { ...bad, items: bad.items.slice(0) };
  for (const [e, j] of [[new InlineEncoder(settings, createRecordDecoder()), bad], [new ThreadEncoder(settings), copy]] as const) {
    try {
      e.define(def);
      await assert.rejects(e.encode(asJob(j)), (err: Error) => {
        assert.ok(err instanceof TracelakeError, err.message);
        assert.equal(err.code, 'VALUE_NOT_CONVERTIBLE');
        assert.match(err.message, /public\.spans\.day \(date\): date 'infinity' cannot be carried/);
        return true;
      });
    } finally {
      await e.close();
    }
  }
});

test('an unknown table ref or a change outside a transaction is an error, not a message', async () => {
  const e = new InlineEncoder(settings, createRecordDecoder());
  e.define(def);
  const w = new ChangeItemsWriter();
  w.change(7, 1n, insert('1', 'a'));
  await assert.rejects(e.encode(asJob({ kind: 'changes', ...w.take() })), /outside a transaction/);
  await assert.rejects(e.encode(asJob({ kind: 'rows', ref: 8, rows: [['1', 'a']], commitLsn: 1n, seq: 0n, commitTimeUs: 0n })), /table ref 8/);
});

test('sends are cut at maxBytes of keys and values; a larger message goes alone', () => {
  const m = (n: number) => ({ topic: 't', key: Buffer.alloc(1), value: n === 0 ? null : Buffer.alloc(n - 1) });
  const sizes = (parts: ReturnType<typeof bySize>) => parts.map((p) => p.map((x) => (x.key?.length ?? 0) + (x.value?.length ?? 0)));
  assert.deepEqual(sizes(bySize([m(4), m(4), m(4), m(10), m(1), m(0)], 8)), [[4, 4], [4], [10], [1, 1]]);
  assert.deepEqual(bySize([], 8), []);
});

test('a row past the size ceiling fails its job naming table, key and column; at the ceiling it is encoded', async () => {
  const limits = { maxColumnBytes: 30, maxRowBytes: 45 };
  const job = (name: string, id = '42') => {
    const w = new ChangeItemsWriter();
    w.begin(1n, 1, 0n);
    w.change(7, 2n, insert(id, name));
    return { kind: 'changes' as const, ...w.take() };
  };
  for (const e of [new InlineEncoder({ ...settings, limits }, createRecordDecoder()), new ThreadEncoder({ ...settings, limits })]) {
    try {
      e.define(def);
      // 10 × '€' is 30 UTF-8 bytes: at the column limit, and the row (2 + 30 + 10 bytes) within its limit
      assert.equal(decoded(await e.encode(asJob(job('€'.repeat(10))))).length, 1);
      await assert.rejects(e.encode(asJob(job(`${'€'.repeat(10)}a`))), (err: Error) => {
        assert.ok(err instanceof TracelakeError);
        assert.equal(err.code, 'ROW_TOO_LARGE');
        assert.match(err.message, /^public\.spans row id=42: column name holds 31 bytes, past limits\.maxColumnBytes \(30\); nothing of it was sent$/);
        assert.match(err.remedy ?? '', /limits\.maxColumnBytes/);
        return true;
      });
      await assert.rejects(e.encode(asJob(job('€'.repeat(10), '123456'))), /public\.spans row id=123456: the row is 46 bytes, past limits\.maxRowBytes \(45\)/);
      await assert.rejects(e.encode(asJob({ kind: 'rows', ref: 7, rows: [['7', 'x'.repeat(31), null]], commitLsn: 1n, seq: 0n, commitTimeUs: 0n })), /row id=7: column name holds 31 bytes/);
    } finally {
      await e.close();
    }
  }
});

test('a table whose oversize choice is dead-letter: the row past the ceiling becomes a record naming it, the next rows go on', async () => {
  const limits = { maxColumnBytes: 30, maxRowBytes: 45, deadLetter: ['public.spans'] };
  const w = new ChangeItemsWriter();
  w.begin(500n, 9, 1_700_000_000_000_000n);
  w.change(7, 100n, insert('42', `${'€'.repeat(10)}a`));
  w.change(7, 110n, insert('43', 'ok'));
  const job = { kind: 'changes' as const, ...w.take() };
  for (const e of [new InlineEncoder({ ...settings, limits }, createRecordDecoder()), new ThreadEncoder({ ...settings, limits })]) {
    try {
      e.define(def);
      const batch = await e.encode(asJob({ ...job, items: job.items.slice(0) }));
      const buf = Buffer.from(batch.bytes);
      assert.equal(batch.index.length, 2 * INDEX_STRIDE);
      const [ref, op, keyOff, keyLen, valueOff, valueLen] = batch.index.subarray(0, INDEX_STRIDE);
      assert.deepEqual([ref, op], [7, DEAD_LETTER]);
      assert.deepEqual({ ...keyType.fromBuffer(buf.subarray(keyOff! + 5, keyOff! + keyLen!)) }, { id: 42 }, 'keyed like the change');
      const record = JSON.parse(buf.toString('utf8', valueOff!, valueOff! + valueLen!)) as Record<string, any>;
      assert.equal(record.table, 'public.spans');
      assert.equal(record.key, 'id=42');
      assert.equal(record.op, 'c');
      assert.deepEqual(record.position, { commit_lsn: '500', tx_seq: '0', lsn: '100', tx_id: '9', commit_ts_us: '1700000000000000', snapshot: 'false' });
      assert.equal(record.error.code, 'ROW_TOO_LARGE');
      assert.match(record.error.message, /column name holds 31 bytes/);
      assert.equal(record.columns.name.bytes, 31);
      assert.equal(record.columns.name.value, undefined, 'the oversize value is not in the record');
      assert.equal(record.columns.name.sha256, createHash('sha256').update(`${'€'.repeat(10)}a`).digest('hex'));
      assert.equal(record.columns.id.value, '42');
      assert.deepEqual(decoded({ bytes: batch.bytes, index: batch.index.slice(INDEX_STRIDE) }).map((m) => [m.op, m.key, m.value?.source]).map(([o, k, s]) => [o, k, (s as Record<string, unknown>).sequence]),
        [['c', { id: 43 }, JSON.stringify(['500', '110'])]], 'the next row is an ordinary change');
    } finally {
      await e.close();
    }
  }
});
