// The replication stream reads ahead of a busy handler, but only so far: against a real walsender, a handler that
// does not finish lets the stream read past the first message (pg-logical-replication's own flow control paused
// the socket at once) and then pauses the socket (not the whole backlog read into memory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationStream } from '../../../sources/postgres/replication-stream.ts';
import { stack } from '../../support/stack.ts';
import { slotFixture } from '../../support/connector.ts';
import { sleep } from '../../support/wait.ts';

const ROWS = 50_000;

test('a busy handler: the stream reads ahead past the first message, pauses within its bound, then hands every message over in order', { timeout: 120_000 }, async (t) => {
  const { db, name, startLsn, cleanup } = await slotFixture('readahead');
  const stream = new ReplicationStream({ connection: { connectionString: stack().pgUrl }, slot: name, publications: [name], statusIntervalMs: 1000 });
  t.after(async () => {
    await stream.stop();
    await cleanup();
  });
  await db.query(`INSERT INTO ${name} SELECT g FROM generate_series(1, ${ROWS}) g`); // BEGIN, 50,000 INSERTs, COMMIT

  let release!: () => void;
  const busy = new Promise<void>((r) => (release = r));
  const tags: string[] = [];
  let lastLsn = 0n;
  let outOfOrder = 0;
  const running = stream.run(startLsn, {
    onMessage: async (lsn, msg) => {
      await busy; // the handler of the first message does not finish until released
      if (msg.tag === 'change') {
        // the row changes of a transaction come in WAL order (BEGIN carries the commit's position)
        if (lsn <= lastLsn) outOfOrder++;
        lastLsn = lsn;
      }
      tags.push(msg.tag);
    },
    onKeepalive: () => 0n,
  });
  running.catch(() => undefined);

  // reading stops growing once the socket is paused
  let before = -1;
  for (let i = 0; i < 100 && stream.received !== before; i++) {
    before = stream.received;
    await sleep(300);
  }
  assert.equal(stream.handled, 0);
  assert.ok(stream.received > 2000, `read ahead past the first message while the handler was busy (${stream.received} read)`);
  assert.ok(stream.received < 12_000, `paused within the bound: ${stream.received} of the ${ROWS + 2} messages read while none was handled`);

  release();
  for (let i = 0; i < 200 && tags.filter((x) => x === 'commit').length === 0; i++) await sleep(100);
  assert.equal(tags.filter((x) => x === 'change').length, ROWS);
  assert.deepEqual([tags[0], tags.at(-1)], ['begin', 'commit']);
  assert.equal(outOfOrder, 0);
});
