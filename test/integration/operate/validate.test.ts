// `tracelake validate` against the real stack: a working configuration passes every check; a user without
// REPLICATION, a missing table and a wrong warehouse token each fail with the reason and the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { connectorFixture } from '../../support/connector.ts';
import { sinkConfig } from '../../support/sink.ts';
import { stack } from '../../support/stack.ts';

const CLI = fileURLToPath(new URL('../../../cli/tracelake.ts', import.meta.url));

function validate(kind: 'connector' | 'sink', config: object): { code: number | null; out: string } {
  const dir = mkdtempSync(`${tmpdir()}/tl-validate-`);
  writeFileSync(`${dir}/c.json`, JSON.stringify(config));
  const r = spawnSync(process.execPath, [CLI, 'validate', kind, '--config', `${dir}/c.json`], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('validate connector: passes on the stack; a user without REPLICATION and a missing table fail with the fix', async (t) => {
  const fx = await connectorFixture('validate');
  const role = `${fx.name}_norep`;
  t.after(async () => {
    await fx.db.query(`DROP OWNED BY ${role}`).catch(() => undefined);
    await fx.db.query(`DROP ROLE IF EXISTS ${role}`);
    await fx.cleanup();
  });
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  const good = validate('connector', fx.config({ tables: [`${fx.schema}.t`] }));
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /all 8 checks passed/);

  await fx.db.query(`CREATE ROLE ${role} LOGIN`);
  await fx.db.query(`GRANT USAGE ON SCHEMA ${fx.schema} TO ${role}`);
  const url = new URL(stack().pgUrl);
  url.username = role;
  const bad = validate('connector', fx.config({ url: url.toString(), tables: [`${fx.schema}.t`, `${fx.schema}.missing`] }));
  assert.equal(bad.code, 1, bad.out);
  assert.match(bad.out, /FAIL {2}postgres: REPLICATION privilege: the connector user lacks the REPLICATION attribute\n\s+fix: ALTER ROLE <user> WITH REPLICATION/);
  assert.match(bad.out, new RegExp(`FAIL {2}postgres: captured tables: .*no SELECT on ${fx.schema}\\.t \\(GRANT SELECT`));
  assert.match(bad.out, new RegExp(`FAIL {2}postgres: captured tables: .*${fx.schema}\\.missing does not exist`));
  assert.match(bad.out, /FAIL {2}postgres: publication: .* may not create it \(no CREATE on the database\)/);
  assert.match(bad.out, /ok {4}kafka: brokers/);
  assert.match(bad.out, /3 of 8 checks failed/);
});

test('validate sink: passes on the stack; a wrong warehouse token fails naming the warehouse', () => {
  const good = validate('sink', sinkConfig('validate_sink'));
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /ok {4}warehouse: connect and query/);
  const cfg = sinkConfig('validate_sink');
  const bad = validate('sink', { ...cfg, warehouse: { ...cfg.warehouse, token: 'dapi-wrong-token' } });
  assert.equal(bad.code, 1, bad.out);
  assert.match(bad.out, /FAIL {2}warehouse: connect and query: .*\n\s+fix: check (warehouse\.host, warehouse\.path and warehouse\.token|the token's permission)/);
  assert.doesNotMatch(bad.out, /dapi-wrong-token/);
});
