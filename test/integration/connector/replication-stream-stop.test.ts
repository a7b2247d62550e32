// The replication stream stops whenever it is asked to, also while it is still connecting: node-postgres never
// settles the connect of a client ended mid-connect, and a stop() in that moment hung a CI run for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationStream } from '../../../sources/postgres/replication-stream.ts';
import { stack } from '../../support/stack.ts';
import { slotFixture } from '../../support/connector.ts';
import { sleep } from '../../support/wait.ts';

const bounded = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not return within ${ms} ms`)), ms).unref())]);

test('stop() ends the stream at any moment of its start, and leaves no connection holding the slot', { timeout: 120_000 }, async (t) => {
  const { db, name, startLsn, cleanup } = await slotFixture('stopstart');
  t.after(cleanup);
  const handlers = { onMessage: async () => {}, onKeepalive: () => 0n };
  // stop right away, after the client exists, while it connects, and once it streams
  for (const delayMs of [0, 1, 5, 20, 500]) {
    const stream = new ReplicationStream({ connection: { connectionString: stack().pgUrl }, slot: name, publications: [name], statusIntervalMs: 1000 });
    const running = stream.run(startLsn, handlers);
    if (delayMs > 0) await sleep(delayMs);
    await bounded(stream.stop(), 10_000, `stop() after ${delayMs} ms`);
    await bounded(running.catch(() => undefined), 15_000, `run() after a stop at ${delayMs} ms`);
    // (a walsender whose client left may take a moment to exit)
    let active = true;
    for (let i = 0; i < 50 && active; i++) {
      const { rows } = await db.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [name]);
      active = rows[0]!.active;
      if (active) await sleep(100);
    }
    assert.equal(active, false, `no connection streams the slot after a stop at ${delayMs} ms`);
  }
});
