import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mutationSteps, newMutations } from '../../../sources/clickhouse/mutation-plan.ts';

const m = (id: string, version: bigint, command: string) => ({ id, version, command, createdUs: 0n });

test('a lightweight DELETE becomes a search for masked rows, with its predicate as ClickHouse formatted it', () => {
  assert.deepEqual(mutationSteps(m('mutation_4.txt', 4n, "(UPDATE _row_exists = 0 WHERE (project_id = 'p') AND (id = 'b'))")),
    [{ kind: 'masked', id: 'mutation_4.txt', version: 4n, where: "(project_id = 'p') AND (id = 'b')" }]);
});

test('an ALTER UPDATE re-reads the rows its predicate matches; a WHERE inside a literal is not the split point', () => {
  assert.deepEqual(mutationSteps(m('mutation_3.txt', 3n, "(UPDATE bookmarked = true, name = ' WHERE x' WHERE (project_id = 'p') AND (span_id IN ('a', 'b')))")),
    [{ kind: 'updated', id: 'mutation_3.txt', version: 3n, where: "(project_id = 'p') AND (span_id IN ('a', 'b'))" }]);
});

test('several commands in one mutation; ALTER DELETE is followed by its predicate; other commands change no values', () => {
  const steps = mutationSteps(m('mutation_9.txt', 9n, "(UPDATE public = true WHERE id = 'x'), (DELETE WHERE id = 'c'), (MATERIALIZE INDEX idx)"));
  assert.deepEqual(steps.map((s) => s.kind), ['updated', 'deleted']);
  assert.deepEqual(mutationSteps(m('mutation_10.txt', 10n, 'APPLY DELETED MASK')), []);
});

test('only mutations not handled yet, in version order', () => {
  const all = [m('mutation_7.txt', 7n, ''), m('mutation_3.txt', 3n, ''), m('mutation_5.txt', 5n, '')];
  assert.deepEqual(newMutations(all, new Set(['mutation_5.txt'])).map((x) => x.id), ['mutation_3.txt', 'mutation_7.txt']);
});
