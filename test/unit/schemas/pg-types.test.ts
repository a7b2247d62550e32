import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mapColumn, defaultMappingOptions, parseTimestampMicros, bigintToTwosComplement, decimalToBytes,
  UnsupportedTypeError, ValueConversionError, type PgTypeInfo,
} from '../../../schemas/src/pg-types.ts';

const pgc = (name: string, oid = 0): PgTypeInfo => ({ oid, schema: 'pg_catalog', name, kind: 'b' });
const map = (t: PgTypeInfo, typeMod = -1, opts = defaultMappingOptions) => mapColumn(t, typeMod, opts, 'public.spans', 'c');
const numericMod = (p: number, s: number) => ((p << 16) | s) + 4;

test('timestamps across years 1000–9999, fractions and zones read as Date.UTC and bigint arithmetic would', () => {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % n);
  const pad = (v: number, w: number) => String(v).padStart(w, '0');
  for (let i = 0; i < 20_000; i++) {
    const [y, mo, d, h, mi, s] = [1000 + rnd(9000), 1 + rnd(12), 1 + rnd(28), rnd(24), rnd(60), rnd(60)];
    const digits = rnd(7);
    const fraction = digits === 0 ? '' : pad(rnd(10 ** digits), digits);
    const withZone = rnd(2) === 1;
    const [oh, om, sign] = [rnd(15), rnd(4) * 15, rnd(2) ? '+' : '-'];
    const zone = !withZone ? '' : `${sign}${pad(oh, 2)}${om || rnd(2) ? `:${pad(om, 2)}` : ''}`;
    const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${fraction ? '.' + fraction : ''}${zone}`;
    const expected = BigInt(Date.UTC(y, mo - 1, d, h, mi, s)) * 1000n + BigInt(fraction.padEnd(6, '0') || '0')
      - (withZone ? BigInt((oh * 3600 + om * 60) * (sign === '-' ? -1 : 1)) * 1_000_000n : 0n);
    assert.equal(parseTimestampMicros(text, withZone), expected, text);
  }
});

test('timestamps keep microseconds and are UTC whatever the process time zone', () => {
  assert.equal(parseTimestampMicros('2024-01-02 03:04:05.123456', false), 1704164645123456n);
  assert.equal(parseTimestampMicros('2024-01-02 03:04:05.123456+00', true), 1704164645123456n);
  assert.equal(parseTimestampMicros('2024-01-02 08:34:05.123456+05:30', true), 1704164645123456n);
  assert.equal(parseTimestampMicros('2024-01-02 03:04:05', false), 1704164645000000n);
  assert.equal(parseTimestampMicros('2024-01-02 03:04:05.1', false), 1704164645100000n);
  assert.equal(parseTimestampMicros('1969-12-31 23:59:59.999999', false), -1n);
  // beyond 1684–2255 the arithmetic is done in bigints; both sides of the boundaries are exact
  assert.equal(parseTimestampMicros('2255-03-14 15:59:59.999999', false), 8999999999999999n);
  assert.equal(parseTimestampMicros('2255-03-14 17:00:01.000001+01', true), 9000000001000001n);
  assert.equal(parseTimestampMicros('100000-01-01 01:02:03.5', false), 3093527984523500000n);
  assert.equal(parseTimestampMicros('1684-10-19 08:00:01.000001', false), -8999999998999999n);
  assert.equal(parseTimestampMicros('1684-10-19 07:59:59.999999-00:30', true), -9000000000000001n + 1_800_000_000n);
  assert.throws(() => parseTimestampMicros('infinity', false), ValueConversionError);
  assert.throws(() => parseTimestampMicros('2024-01-02 03:04:05', true), /lacks a zone/);
});

test('int8 beyond 2^53 stays exact; int4 is a number; bool is t/f', () => {
  assert.equal(map(pgc('int8')).convert('9223372036854775807'), 9223372036854775807n);
  assert.equal(map(pgc('int4')).convert('-42'), -42);
  assert.equal(map(pgc('bool')).convert('t'), true);
  assert.equal(map(pgc('bool')).convert('f'), false);
});

test('numeric: precise decimal(p,s) up to 38 digits; wider or unconstrained as string; modes', () => {
  const d = map(pgc('numeric'), numericMod(20, 6));
  assert.deepEqual(d.avro, { type: 'bytes', logicalType: 'decimal', precision: 20, scale: 6 });
  assert.equal(d.pgType, 'numeric(20,6)');
  assert.deepEqual(d.convert('1.5'), bigintToTwosComplement(1500000n));
  const wide = map(pgc('numeric'), numericMod(65, 30));
  assert.equal((wide.avro as { type: string }).type, 'string');
  assert.equal(wide.convert('0.000000000000000000000000000001'), '0.000000000000000000000000000001');
  assert.equal((map(pgc('numeric')).avro as { type: string }).type, 'string');
  assert.equal(map(pgc('numeric'), numericMod(10, 2), { ...defaultMappingOptions, decimalMode: 'double' }).convert('1.25'), 1.25);
  assert.equal(map(pgc('numeric'), numericMod(10, 2), { ...defaultMappingOptions, decimalMode: 'string' }).convert('1.25'), '1.25');
  assert.throws(() => decimalToBytes('NaN', 2), ValueConversionError);
});

test('two\'s complement encoding matches Avro decimal examples', () => {
  assert.equal(bigintToTwosComplement(0n).toString('hex'), '00');
  assert.equal(bigintToTwosComplement(127n).toString('hex'), '7f');
  assert.equal(bigintToTwosComplement(128n).toString('hex'), '0080');
  assert.equal(bigintToTwosComplement(-1n).toString('hex'), 'ff');
  assert.equal(bigintToTwosComplement(-128n).toString('hex'), '80');
  assert.equal(bigintToTwosComplement(-129n).toString('hex'), 'ff7f');
  assert.equal(decimalToBytes('-0.01', 2).toString('hex'), 'ff');
});

test('json/jsonb as string, uuid, bytea hex, date, time, interval', () => {
  assert.equal(map(pgc('jsonb')).convert('{"a": 1}'), '{"a": 1}');
  assert.deepEqual(map(pgc('uuid')).avro, { type: 'string', logicalType: 'uuid' });
  assert.deepEqual(map(pgc('bytea')).convert('\\x00ff10'), Buffer.from([0, 255, 16]));
  assert.equal(map(pgc('date')).convert('1970-01-02'), 1);
  assert.equal(map(pgc('date')).convert('2024-02-29'), 19782);
  assert.equal(map(pgc('time')).convert('01:00:00.5'), 3600500000n);
  assert.equal(map(pgc('interval')).convert('P1DT2H'), 'P1DT2H');
});

test('arrays of mapped types, with NULL elements and quoting', () => {
  const arr = map({ ...pgc('_text'), element: pgc('text') });
  assert.deepEqual(arr.avro, { type: 'array', items: ['null', 'string'] });
  assert.deepEqual(arr.convert('{a,"b c",NULL,"x\\"y"}'), ['a', 'b c', null, 'x"y']);
  assert.equal(arr.pgType, 'text[]');
  const ints = map({ ...pgc('_int8'), element: pgc('int8') });
  assert.deepEqual(ints.convert('{1,2}'), [1n, 2n]);
  assert.throws(() => ints.convert('{{1,2},{3,4}}'), /multi-dimensional/);
});

test('enums, composites and domains; unknown types fail naming table, column and type', () => {
  assert.equal(map({ oid: 1, schema: 'public', name: 'observation_type', kind: 'e' }).convert('GENERATION'), 'GENERATION');
  const dom = map({ oid: 2, schema: 'public', name: 'positive', kind: 'd', base: pgc('int4') });
  assert.equal(dom.convert('5'), 5);
  const unknown: PgTypeInfo = { oid: 3, schema: 'public', name: 'geometry', kind: 'b' };
  assert.throws(() => map(unknown), (e: unknown) =>
    e instanceof UnsupportedTypeError && /public\.spans\.c/.test(e.message) && /public\.geometry/.test(e.message));
  assert.equal(map(unknown, -1, { ...defaultMappingOptions, unknownTypes: 'string' }).convert('POINT(1 2)'), 'POINT(1 2)');
});
