// Where configuration comes from: the file, ${env:…}/${file:…} references, TRACELAKE__… overrides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { applyOverrides, loadRawConfig, readConfigFile, resolveReferences } from '../../../runtime/config/load.ts';
import { connectorConfigSchema, parseConnectorConfig } from '../../../connector/src/config.ts';

const files: Record<string, string> = { '/run/secrets/pg': 'postgres://app:pw@db/x\n' };
const environment = (env: Record<string, string>) => ({
  env, readFile: (p: string) => {
    if (!(p in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return files[p]!;
  },
});

test('${env:NAME} and ${file:/path} are replaced in any string; a file is trimmed', () => {
  const out = resolveReferences({ source: { url: '${file:/run/secrets/pg}' }, http: { token: 'Bearer-${env:TOK}' }, list: ['${env:TOK}'] }, environment({ TOK: 'abc' }));
  assert.deepEqual(out, { source: { url: 'postgres://app:pw@db/x' }, http: { token: 'Bearer-abc' }, list: ['abc'] });
});

test('a missing reference names the field and the variable or file', () => {
  assert.throws(() => resolveReferences({ warehouse: { token: '${env:WH_TOKEN}' } }, environment({})), /warehouse\.token refers to \$\{env:WH_TOKEN\}, which is not set/);
  assert.throws(() => resolveReferences({ a: ['${file:/nope}'] }, environment({})), /a\.0 refers to \$\{file:\/nope\}, which cannot be read \(ENOENT\)/);
});

test('TRACELAKE__ overrides: case-insensitive path, strings as is, JSON for the rest', () => {
  const out = applyOverrides({ source: { url: 'postgres://a/b', tables: ['public.t'] }, kafka: { brokers: ['a:1'] }, registry: { url: 'http://r' } }, connectorConfigSchema, {
    TRACELAKE__KAFKA__TOPICPREFIX: '123', TRACELAKE__KAFKA__BROKERS: '["k1:9092","k2:9092"]', TRACELAKE__KAFKA__PARTITIONS: '6',
    TRACELAKE__SOURCE__HEARTBEATINTERVALMS: '0', TRACELAKE__STATE: 'paused', OTHER: 'x',
  });
  const c = parseConnectorConfig(out);
  assert.equal(c.kafka.topicPrefix, '123');
  assert.deepEqual(c.kafka.brokers, ['k1:9092', 'k2:9092']);
  assert.equal(c.kafka.partitions, 6);
  assert.equal(c.source.heartbeatIntervalMs, 0);
  assert.equal(c.state, 'paused');
});

test('an override of a field that does not exist is an error listing the fields there', () => {
  assert.throws(() => applyOverrides({}, connectorConfigSchema, { TRACELAKE__SOURCE__SLOTNAME: 'x' }), /source\.SLOTNAME is not a configuration field/);
  assert.throws(() => applyOverrides({}, connectorConfigSchema, { TRACELAKE__KAFKA__PARTITIONS: 'six' }), /not valid JSON for kafka\.partitions/);
});

test('config files: unreadable and invalid JSON are named', () => {
  const dir = mkdtempSync(`${tmpdir()}/tl-cfg-`);
  writeFileSync(`${dir}/bad.json`, '{ "source": ');
  assert.throws(() => readConfigFile(`${dir}/missing.json`), /cannot read config file .*missing\.json: ENOENT/);
  assert.throws(() => readConfigFile(`${dir}/bad.json`), /bad\.json is not valid JSON/);
  writeFileSync(`${dir}/ok.json`, JSON.stringify({ source: { url: '${env:PG}', tables: ['public.t'] }, kafka: { brokers: ['k'] }, registry: { url: 'http://r' } }));
  const c = parseConnectorConfig(loadRawConfig(`${dir}/ok.json`, connectorConfigSchema, environment({ PG: 'postgres://x/y', TRACELAKE__SOURCE__SLOT__NAME: 's2' })));
  assert.equal(c.source.url, 'postgres://x/y');
  assert.equal(c.source.slot.name, 's2');
});
