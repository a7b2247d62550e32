import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeWire, wireSchemaId } from '../../../schemas/src/wire-format.ts';
import { avroType } from '../../../schemas/src/avro/types.ts';
import { Utf8Text } from '../../../schemas/src/utf8-text.ts';

const type = avroType({ type: 'record', name: 'r', fields: [{ name: 'id', type: 'long' }, { name: 'body', type: ['null', 'string'] }] });

test('wire format: magic byte, schema id, Avro body — for small values and for values larger than any before', () => {
  const sizes = [0, 10, 5000, 70_000, 300_000, 3];
  const out = sizes.map((n, i) => encodeWire({ id: 40 + i, type }, { id: BigInt(i), body: n ? 'é'.repeat(n) : null }));
  out.forEach((buf, i) => {
    assert.equal(buf[0], 0);
    assert.equal(wireSchemaId(buf), 40 + i);
    assert.deepEqual({ ...type.fromBuffer(buf.subarray(5)) }, { id: BigInt(i), body: sizes[i] ? 'é'.repeat(sizes[i]!) : null });
    assert.equal(buf.length, 5 + type.toBuffer({ id: BigInt(i), body: sizes[i] ? 'é'.repeat(sizes[i]!) : null }).length, 'exactly sized');
  });
  // earlier results are their own buffers, not views of the scratch space
  assert.equal(type.fromBuffer(out[1]!.subarray(5)).body, 'é'.repeat(10));
});

test('Avro longs are bigints over the full 64-bit range, in nullable unions too; beyond it they are refused', () => {
  const nullable = avroType({ type: 'record', name: 'n', fields: [{ name: 'v', type: ['null', 'long'] }] });
  for (const v of [-(2n ** 63n), -1n, 0n, 2n ** 53n + 1n, 2n ** 63n - 1n, null]) {
    assert.deepEqual({ ...nullable.fromBuffer(nullable.toBuffer({ v })) }, { v });
  }
  for (const v of [2n ** 63n, -(2n ** 63n) - 1n, 5]) assert.throws(() => nullable.toBuffer({ v }), `${v}`);
});

test('Avro longs are the zigzag varints of the Avro spec, however they are written', () => {
  const long = avroType('"long"');
  // the spec's encoding, computed here from the bigint: zigzag, then 7 bits a byte, least significant first
  const spec = (v: bigint): Buffer => {
    let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    const out: number[] = [];
    do {
      const b = Number(z & 0x7fn);
      z >>= 7n;
      out.push(z ? b | 0x80 : b);
    } while (z);
    return Buffer.from(out);
  };
  const values = [0n, 1n, -1n, 63n, 64n, -64n, -65n, 2n ** 31n, -(2n ** 31n), 2n ** 52n - 1n, 2n ** 52n, 2n ** 52n + 1n, -(2n ** 52n), -(2n ** 52n) - 1n,
    2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 1_763_720_553_123_456n];
  let x = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < 2000; i++) {
    x = BigInt.asUintN(64, x * 6364136223846793005n + 1442695040888963407n);
    values.push(BigInt.asIntN(64, x) >> BigInt(i % 64));
  }
  for (const v of values) {
    assert.deepEqual(long.toBuffer(v), spec(v), `${v}`);
    assert.equal(long.fromBuffer(spec(v)), v);
  }
});

test('text kept as UTF-8 bytes is written as the same Avro string its decoded form gives: plain, nullable, with attributes; a union without a string refuses it', () => {
  const t = avroType({
    type: 'record', name: 'u', fields: [
      { name: 'plain', type: 'string' }, { name: 'nullable', type: ['null', 'string'] },
      { name: 'json', type: ['null', { type: 'string', 'connect.name': 'io.debezium.data.Json' }] }, { name: 'n', type: ['null', 'long'] },
    ],
  });
  for (const text of ['', "it's \"q\" \\ ${x} 😀 \u202e", '{"a": "{\\"b\\": 1}"}'.repeat(5000)]) {
    const asText = new Utf8Text(Buffer.from(text));
    const fromString = t.toBuffer({ plain: text, nullable: text, json: text, n: 1n });
    const fromBytes = t.toBuffer({ plain: asText, nullable: asText, json: asText, n: 1n });
    assert.ok(fromBytes.equals(fromString), `${text.length} characters`);
    assert.deepEqual({ ...t.fromBuffer(fromBytes) }, { plain: text, nullable: text, json: text, n: 1n });
  }
  const noString = avroType({ type: 'record', name: 'v', fields: [{ name: 'v', type: ['null', 'long'] }] });
  assert.throws(() => noString.toBuffer({ v: new Utf8Text(Buffer.from('7')) }));
});
