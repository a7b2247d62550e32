// The repository stands on its own: no code, doc or script points at files outside it (a user's clone has
// only the repository; notes kept beside it during development are not there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const OUTSIDE = new RegExp(['\\.\\./', 'shared', '(/|\\b)|', 'shared', '/notes|', 'shared', ' notes'].join(''), 'i');

test('no tracked file refers to notes or files outside the repository', () => {
  const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((f) => f && !f.endsWith('package-lock.json'));
  const hits: string[] = [];
  for (const f of files) {
    readFileSync(`${ROOT}/${f}`, 'utf8').split('\n').forEach((line, i) => {
      if (OUTSIDE.test(line)) hits.push(`${f}:${i + 1}: ${line.trim().slice(0, 120)}`);
    });
  }
  assert.deepEqual(hits, []);
});
