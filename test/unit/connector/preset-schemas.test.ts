import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkedInFields, schemaDrift } from '../../../sources/postgres/preset-schemas.ts';
import { PRESETS } from '../../../schemas/src/platforms.ts';
import type { TableSchema } from '../../../schemas/src/envelope.ts';

test('every Phoenix preset table has a checked-in schema naming each column and its Postgres type', () => {
  for (const table of PRESETS.phoenix.tables) {
    const fields = checkedInFields('phoenix', table);
    assert.ok(fields && fields.length > 0 && fields.every((f) => f.name && f.pgType), table);
  }
  assert.ok(checkedInFields('phoenix', 'spans')!.some((f) => f.name === 'attributes' && f.pgType === 'jsonb'));
  assert.ok(checkedInFields('langfuse', 'observations')!.some((f) => f.name === 'modelParameters'));
});

test('drift: a new upstream column is an addition; removed and retyped columns are reported', () => {
  const live = (cols: Array<[string, string]>): TableSchema => ({
    schema: 'public', table: 'spans',
    columns: cols.map(([name, pgType]) => ({ name, field: name, isKey: name === 'id', mapping: { avro: 'string', convert: (t) => t, pgType } })),
  });
  const fields = [{ name: 'id', pgType: 'int4' }, { name: 'name', pgType: 'varchar' }, { name: 'old', pgType: 'text' }];
  assert.deepEqual(schemaDrift('spans', fields, live([['id', 'int8'], ['name', 'varchar'], ['new_col', 'jsonb']])), {
    table: 'spans', added: ['new_col'], removed: ['old'], retyped: [{ column: 'id', was: 'int4', now: 'int8' }],
  });
});
