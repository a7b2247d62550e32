// The short variant of the fault-injection run (test/chaos; the long one is `make chaos`): a few seeded
// faults under a mixed load, then every mirrored table compared with Postgres row by row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSummary, runChaos } from '../../chaos/chaos.ts';

test('chaos (short): seeded faults under load; Delta equals Postgres, slot caught up, no process leaked or crashed', async () => {
  const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
  // a sink that makes no progress for 90 s is stuck: the summary (mismatches, seed) is printed within the test's time
  const summary = await runChaos({ seed, faults: 5, gapMs: [3000, 7000], seedRows: 200, stallMs: 90_000,
    // progress on stderr as it happens: a run that stalls has already said its seed and where it is
    log: (line) => process.stderr.write(`${line}\n`) });
  const text = formatSummary(summary);
  process.stdout.write(`${text}\n`);
  assert.deepEqual(summary.mismatches, [], text);
  assert.equal(summary.slotLagBytes, 0, text);
  assert.equal(summary.leakedProcesses, 0, text);
  assert.deepEqual(summary.unexpectedExits, [], text);
});
