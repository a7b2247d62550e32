import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configValuesSchema, referencePattern, valuesSchemaPath, valuesSchemaText } from '../../../scripts/gen-helm-schema.ts';

test('deploy/helm/tracelake/values.schema.json is what the config schemas say (run node scripts/gen-helm-schema.ts)', () => {
  assert.equal(readFileSync(valuesSchemaPath, 'utf8'), valuesSchemaText());
});

test('config values schema: strings also take a ${env:…}/${file:…} reference; keys the chart sets are left out; unknown keys refused', () => {
  const schema = z.strictObject({
    url: z.string().startsWith('postgres'),
    mode: z.enum(['a', 'b']).default('a'),
    n: z.number().int(),
    http: z.strictObject({ host: z.string().default('0.0.0.0'), port: z.number().default(1), token: z.string().optional() }).prefault({}),
    state: z.enum(['running', 'paused']).default('running'),
  });
  const json = configValuesSchema(schema) as any;
  assert.equal(json.additionalProperties, false);
  assert.deepEqual(Object.keys(json.properties).sort(), ['http', 'mode', 'n', 'url']);
  assert.deepEqual(Object.keys(json.properties.http.properties), ['token']);
  assert.equal(json.properties.http.additionalProperties, false);
  assert.deepEqual(json.properties.url.anyOf.map((s: any) => s.pattern), ['^postgres.*', referencePattern]);
  assert.deepEqual(json.properties.mode.anyOf[0].enum, ['a', 'b']);
  assert.equal(json.properties.mode.default, 'a');
  assert.equal(json.properties.n.type, 'integer', 'numbers take no reference: the service resolves references in strings only');
  assert.ok(new RegExp(referencePattern).test('postgres://u:${file:/etc/tracelake/secrets/pg/password}@db/x'));
  assert.ok(!new RegExp(referencePattern).test('${vault:x}'));
});

test('a config schema that would convert with $ref is refused rather than embedded broken', () => {
  const shared = z.string().meta({ id: 'shared' });
  assert.throws(() => configValuesSchema(z.strictObject({ a: shared, b: shared })), /\$ref/);
});
