import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configurationDoc, typeMappingDoc } from '../../../scripts/gen-docs.ts';

test('docs/type-mapping.md is what the mapping code says (run node scripts/gen-docs.ts)', () => {
  assert.equal(readFileSync(new URL('../../../docs/type-mapping.md', import.meta.url), 'utf8'), typeMappingDoc());
});

test('docs/configuration.md is what the config schemas say (run node scripts/gen-docs.ts)', () => {
  assert.equal(readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8'), configurationDoc());
});
