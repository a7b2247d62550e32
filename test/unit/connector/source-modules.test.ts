// The connector loads a source's modules only when that source is configured, and its service never loads the
// sink's (connector/src/connector.ts): a Postgres-only connector keeps the ClickHouse client, the S3 SDK and the
// Databricks driver out of its heap. Checked in a fresh process, from the CommonJS modules it has loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const ROOT = new URL('../../../', import.meta.url).pathname;

/** The npm packages a fresh process has loaded once a Connector for `config` has opened its sources. */
function packagesLoadedFor(config: Record<string, unknown>): string[] {
  const script = `
    import { createRequire } from 'node:module';
    import { Connector } from './connector/src/connector.ts';
    import { connectorService } from './connector/src/service.ts';
    import { parseConnectorConfig } from './connector/src/config.ts';
    const log = { info() {}, warn() {}, error() {}, debug() {}, child() { return log; } };
    const c = new Connector(parseConnectorConfig(${JSON.stringify(config)}), log);
    await c.stop(); // resolves once the sources are loaded (and stopped before they ran)
    void connectorService;
    const names = new Set(Object.keys(createRequire(import.meta.url).cache).map((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(p)?.[1]).filter(Boolean));
    process.stdout.write(JSON.stringify([...names]));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as string[];
}

test('a Postgres-only connector loads neither the ClickHouse client, the S3 SDK nor the Databricks driver', () => {
  const loaded = packagesLoadedFor({ source: { url: 'postgres://u@127.0.0.1:1/db', tables: ['public.spans'] }, kafka: { brokers: ['127.0.0.1:1'] }, registry: { url: 'http://127.0.0.1:1' } });
  assert.ok(loaded.includes('pg'), `the Postgres source was loaded: ${loaded.join(', ')}`);
  for (const heavy of ['@clickhouse/client', '@aws-sdk/client-s3', '@databricks/sql']) assert.ok(!loaded.includes(heavy), `${heavy} was loaded`);
});
