// The ClickHouse source's failures name their fix (wrong password, unreachable server, missing table, an
// untrusted certificate), and a column added to a captured table flows into Delta as a schema evolution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connector } from '../../../connector/src/connector.ts';
import { parseConnectorConfig, type ConnectorConfigInput } from '../../../connector/src/config.ts';
import { testLog } from '../../support/connector.ts';
import { langfusePipeline } from '../../support/langfuse-pipeline.ts';
import { span } from '../../support/langfuse-rows.ts';
import { until } from '../../support/wait.ts';
import { clickhouseFixture, clickhouseStack } from '../../support/clickhouse.ts';
import { ClickHouseReader } from '../../../sources/clickhouse/clickhouse-reader.ts';

/** Runs the connector until it fails; the error's code. */
async function failureCode(cfg: ConnectorConfigInput): Promise<string> {
  const c = new Connector(parseConnectorConfig(cfg), testLog);
  const err = await c.run().then(() => new Error('the connector stopped without failing'), (e: unknown) => e as { code?: string; remedy?: string });
  assert.ok((err as { remedy?: string }).remedy, `the error has a remedy: ${String((err as Error).message)}`);
  return (err as { code?: string }).code ?? String(err);
}

test('ClickHouse failures at start: each with its code and remedy', async (t) => {
  const lf = await langfusePipeline(t, 'chfail', 'v4');
  const ch = clickhouseStack();
  const base = lf.connectorConfig;
  const with_ = (clickhouse: Record<string, unknown>) => ({ ...base, clickhouse: { ...base.clickhouse!, ...clickhouse } });
  assert.equal(await failureCode(with_({ password: 'wrong' })), 'CLICKHOUSE_AUTH_FAILED');
  assert.equal(await failureCode(with_({ url: 'http://127.0.0.1:1' })), 'CLICKHOUSE_UNREACHABLE');
  assert.equal(await failureCode(with_({ tables: ['no_such_table'] })), 'TABLE_MISSING');
  assert.equal(await failureCode(with_({ url: ch.httpsUrl })), 'CLICKHOUSE_TLS', 'https without the CA that signed the server certificate');
});

test('over TLS, a column added to events_full while capturing flows into Delta as a new schema version', async (t) => {
  const lf = await langfusePipeline(t, 'chevo', 'v4');
  const { ch, wh, fx } = lf;
  const stackCh = clickhouseStack();
  lf.connectorConfig.clickhouse = { ...lf.connectorConfig.clickhouse!, url: stackCh.httpsUrl, caFile: stackCh.caFile };
  await ch.insert('events_full', [span({ trace: 'A', id: 'before', at: 0 })]);
  await lf.startConnector();
  await lf.startSink();
  await ch.exec(`ALTER TABLE ${ch.database}.events_full ADD COLUMN team String DEFAULT ''`);
  await ch.insert('events_full', [{ ...span({ trace: 'A', id: 'after', at: 1 }), team: 'search ${x} 😀' }]);
  let rows: Array<Record<string, unknown>> = [];
  await until('the new column in Delta', async () => {
    rows = (await wh.query(`SELECT span_id, team FROM ${fx.name}.events_full ORDER BY span_id`)).map((r) => ({ ...r }));
    return rows.length === 2 && rows[0]!.team === 'search ${x} 😀';
  }, 90_000, 1000).catch(() => undefined);
  assert.deepEqual(rows, [{ span_id: 'after', team: 'search ${x} 😀' }, { span_id: 'before', team: null }]);
});

test('a column added within the second of the table\'s last change is noticed by the next poll (system.tables counts whole seconds)', async (t) => {
  const fx = await clickhouseFixture('chcols', 'none');
  t.after(() => fx.cleanup());
  const src = fx.source();
  const reader = new ClickHouseReader({ url: src.url!, username: src.username!, password: src.password!, requestTimeoutMs: 30_000 });
  t.after(() => reader.close());
  await fx.exec(`CREATE TABLE ${fx.database}.t (id String, v String) ENGINE = MergeTree ORDER BY id`);
  await fx.insert('t', [{ id: 'a', v: 'x' }]);
  const before = await reader.partsAndColumnsKey(fx.database, 't');
  await fx.exec(`ALTER TABLE ${fx.database}.t ADD COLUMN team String DEFAULT ''`);
  const after = await reader.partsAndColumnsKey(fx.database, 't');
  assert.ok(before.columnsKey, 'a key while the table has parts');
  assert.notEqual(after.columnsKey, before.columnsKey, 'the key changed');
  await fx.exec(`ALTER TABLE ${fx.database}.t MODIFY COLUMN team Nullable(String)`);
  assert.notEqual((await reader.partsAndColumnsKey(fx.database, 't')).columnsKey, after.columnsKey, 'a retyped column changes it too');
});
