import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { exactProduceRequests, exactRequestFraming } from '../../../runtime/kafka-produce-request.ts';
import '../../../runtime/kafka.ts';

const require = createRequire(import.meta.url);
interface Encoded { buffer: Buffer }

/** kafkajs' own module, loaded afresh next to the one in use */
function ownAndUsed<T>(module: string): { own: T; used: T } {
  const path = require.resolve(module);
  const used = require(path) as T;
  delete require.cache[path];
  const own = require(path) as T;
  require.cache[path]!.exports = used;
  assert.notEqual(used, own);
  return { own, used };
}

type Produce = (args: object) => { apiKey: number; apiVersion: number; encode(): Promise<Encoded> };

function messages(n: number, seed: number, timestamps: boolean): object[] {
  return Array.from({ length: n }, (_, i) => {
    const k = i * 31 + seed;
    return {
      key: k % 7 === 0 ? null : Buffer.alloc(k % 60, k),
      value: k % 11 === 0 ? null : Buffer.alloc([0, 1, 63, 64, 127, 128, 2000, 16_384, 70_000][k % 9]!, k & 0xff),
      ...(timestamps ? { timestamp: k % 5 === 0 ? null : 1_700_000_000_000 + (k % 17) * 997 } : {}),
    };
  });
}

test("kafkajs' produce requests are written in one buffer, byte for byte as by its own (v3 and the versions built on it)", async () => {
  assert.equal(await exactProduceRequests, true);
  const { own, used } = ownAndUsed<Produce>('kafkajs/src/protocol/requests/produce/v3/request.js');
  const v7 = require('kafkajs/src/protocol/requests/produce/v7/request.js') as Produce;
  const now = Date.now;
  Date.now = () => 1_763_000_000_000; // kafkajs stamps a batch without timestamps with the clock
  try {
    let cases = 0;
    for (const timestamps of [false, true]) {
      for (const [partitions, perPartition] of [[1, 1], [3, 50], [2, 700]] as const) {
        for (const transactionalId of [undefined, 'tx']) {
          const args = {
            acks: -1,
            timeout: 30_000,
            transactionalId,
            producerId: cases % 2 ? 9_000_000_001 : undefined,
            producerEpoch: cases % 3,
            topicData: [
              { topic: 'tracelake.public.spans', partitions: Array.from({ length: partitions }, (_, p) => ({ partition: p, firstSequence: p * 1000 + cases, messages: messages(perPartition, p + cases, timestamps) })) },
              { topic: 'ü', partitions: [{ partition: 4, messages: messages(2, cases, timestamps) }] },
            ],
          };
          const [a, b] = await Promise.all([own(args).encode(), used(args).encode()]);
          assert.deepEqual(b.buffer, a.buffer, JSON.stringify({ timestamps, partitions, perPartition, transactionalId }));
          assert.equal(v7(args).apiVersion, 7);
          assert.deepEqual((await v7(args).encode()).buffer, a.buffer);
          cases++;
        }
      }
    }
    // a request this encoder does not take (compression, string values, headers) is kafkajs' own, unchanged
    for (const odd of [{ compression: 1 }, { value: 'text' }, { headers: { h: 'x' } }]) {
      const { compression, ...field } = odd as { compression?: number };
      const args = { acks: 1, timeout: 1000, compression, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: Buffer.from('k'), value: Buffer.from('v'), ...field }] }] }] };
      assert.deepEqual((await used(args).encode()).buffer, (await own(args).encode()).buffer, JSON.stringify(odd));
    }
  } finally {
    Date.now = now;
  }
});

test('kafkajs frames each request in one buffer, byte for byte as its own', async () => {
  assert.equal(await exactRequestFraming, true);
  type Framing = (args: object) => Promise<Encoded>;
  const { own, used } = ownAndUsed<Framing>('kafkajs/src/protocol/request.js');
  const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => { writeBytes(b: Buffer): unknown; writeInt32(n: number): unknown };
  for (const clientId of ['tracelake', null, 'ünï']) {
    for (const bytes of [0, 10, 5000, 1_100_000]) {
      const payload = new Encoder();
      payload.writeBytes(Buffer.alloc(bytes, bytes & 0xff));
      const args = { correlationId: bytes + 7, clientId, request: { apiKey: 3, apiVersion: 12, encode: async () => payload } };
      assert.deepEqual((await used(args)).buffer, (await own(args)).buffer);
    }
  }
});
