import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from '../../../emitter/emitter.ts';
import { InlineEncoder } from '../../../emitter/encode/encoder.ts';
import type { KafkaPublisher } from '../../../emitter/kafka/publisher.ts';
import { PgoutputHandler } from '../../../sources/postgres/pgoutput-handler.ts';
import { createRecordDecoder } from '../../../sources/postgres/record-decoder.ts';
import { avroType } from '../../../schemas/src/avro/types.ts';
import type { SchemaRegistry } from '../../../schemas/src/registry.ts';
import { PgoutputWriter as W } from '../../support/pgoutput-writer.ts';
import { sleep } from '../../support/wait.ts';

// what the handler asks pg_catalog about int4, and a registry that hands out ids
const catalog = { query: async () => ({ rows: [{ oid: '23', schema: 'pg_catalog', name: 'int4', kind: 'b', elem: '0', base: '0' }] }) } as never;
let ids = 0;
const registry = { register: async (_subject: string, schema: never) => ({ id: ++ids, type: avroType(schema) }) } as unknown as SchemaRegistry;

test('a failed send takes the batches queued behind it along, and the emitter is idle again: heartbeats confirm after the reconnect', async (t) => {
  let calls = 0;
  const publisher = {
    async ensureTopics() {},
    async send() {
      calls++;
      await sleep(20);
      if (calls === 1) throw new Error('Kafka request failed: Connection error');
    },
  } as unknown as KafkaPublisher;
  const confirmed: bigint[] = [];
  const failures: Error[] = [];
  const encoder = new InlineEncoder({ source: { connector: 'c', name: 'p', db: 'd' }, tombstonesOnDelete: false, limits: { maxColumnBytes: 16 << 20, maxRowBytes: 64 << 20 }, decoder: '' }, createRecordDecoder());
  let handler: PgoutputHandler | undefined;
  const emitter = new Emitter<bigint>(
    { topicPrefix: 'p', deadLetterTopic: 'p.dead-letter', maxBatchMessages: 100, maxBatchBytes: 1 << 20, lingerMs: 0 },
    { registry, publisher, encoder, onDurable: (lsn) => handler!.confirmDurable(lsn), onFailure: (err) => failures.push(err), drain: () => handler!.drain() },
  );
  handler = new PgoutputHandler(
    { mapping: { decimalMode: 'precise', unknownTypes: 'fail' }, tombstonesOnDelete: false, keyColumns: { 'public.t': ['id'] } },
    { emitter, db: () => catalog, streamIdle: () => true, confirm: async (lsn) => { confirmed.push(lsn); } },
  );
  t.after(() => emitter.close());
  handler.reset(10n);
  await handler.onMessage(0n, { tag: 'relation', relationId: 1, schema: 'public', table: 't', replicaIdentity: 'default', columns: [{ name: 'id', typeOid: 23, typeMod: -1, isKey: true }] });
  // two transactions, each sent at its commit: the second queues behind the first, which fails
  for (const lsn of [100n, 200n]) {
    await handler.onMessage(0n, { tag: 'begin', finalLsn: lsn, xid: 1, commitTimeUs: 0n });
    const insert = new W().c('I').i32(1).c('N').i16(1).text(String(lsn)).done();
    await handler.onMessage(lsn - 1n, { tag: 'change', relationId: 1, message: insert });
    await handler.onMessage(lsn, { tag: 'commit', flags: 0, commitLsn: lsn - 1n, endLsn: lsn, commitTimeUs: 0n });
  }
  await sleep(100);
  assert.equal(calls, 1, 'the batch behind the failed one is not sent (it is read again after the reconnect)');
  assert.equal(failures.length, 1, 'the stream is ended once, for the first failure');
  assert.deepEqual(confirmed, [], 'nothing confirmed');
  assert.equal(handler.idle, true, 'no send counted as in flight any more');
  // the stream reconnects from the confirmed position; an idle heartbeat message is confirmed
  handler.reset(10n);
  await handler.onMessage(300n, { tag: 'message', transactional: false } as never);
  assert.deepEqual(confirmed, [300n]);
});
