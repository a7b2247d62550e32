// The object-storage source's failures at start name their fix (wrong credentials, an identity without List, a
// missing bucket, an unreachable or untrusted endpoint), and the source reads over TLS with the stack's CA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connector } from '../../../connector/src/connector.ts';
import { parseConnectorConfig, type ConnectorConfigInput } from '../../../connector/src/config.ts';
import { testLog } from '../../support/connector.ts';
import { exportPipeline, langsmithRun, lfManifest, scoreRow } from '../../support/export-pipeline.ts';
import { readRawRecords } from '../../support/kafka.ts';
import { until } from '../../support/wait.ts';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3Stack } from '../../support/object-store.ts';

/** Runs the connector until it fails: the error's code and message. */
async function failure(cfg: ConnectorConfigInput): Promise<{ code: string; message: string }> {
  const c = new Connector(parseConnectorConfig(cfg), testLog);
  const err = await c.run().then(() => new Error('the connector stopped without failing'), (e: unknown) => e as { code?: string; remedy?: string; message: string });
  assert.ok((err as { remedy?: string }).remedy, `the error has a remedy: ${String((err as Error).message)}`);
  return { code: (err as { code?: string }).code ?? String(err), message: (err as Error).message };
}

test('object storage failures at start: each with its code and remedy; TLS with the stack\'s CA works', async (t) => {
  const ep = await exportPipeline(t, 'osfail', 'langfuse-export', 'lf/');
  const s3 = s3Stack();
  const base = ep.connectorConfig;
  const with_ = (os: Record<string, unknown>) => ({ ...base, objectStorage: { ...base.objectStorage!, ...os } });
  const auth = await failure(with_({ secretAccessKey: 'wrong' }));
  assert.equal(auth.code, 'OBJECT_STORE_AUTH_FAILED');
  assert.match(auth.message, new RegExp(`bucket ${ep.bucket.bucket}`), 'the message names the bucket');
  assert.equal((await failure(with_({ accessKeyId: s3.noListKey, secretAccessKey: s3.noListSecret }))).code, 'OBJECT_STORE_ACCESS_DENIED', 'an identity that may read but not list');
  assert.equal((await failure(with_({ bucket: 'no-such-bucket-tracelake' }))).code, 'OBJECT_STORE_BUCKET_MISSING');
  assert.equal((await failure(with_({ endpoint: 'http://127.0.0.1:1' }))).code, 'OBJECT_STORE_UNREACHABLE');
  assert.equal((await failure(with_({ endpoint: s3.httpsUrl }))).code, 'OBJECT_STORE_TLS', 'https without the CA that signed the certificate');

  // over TLS with the CA: an export run is listed and read, its rows reach Kafka
  const stem = '2026-08-22T07-40-00';
  const file = { path: `lf/p1/scores/${stem}.jsonl`, format: 'jsonl' as const, table: 'langfuse/scores', rows: [scoreRow('s1', 'A', null, 0, 1), scoreRow('s2', 'A', null, 1, 0)] };
  await ep.bucket.write([file]);
  await ep.bucket.put(`lf/p1/manifests/${stem}.json`, lfManifest('lf/', stem, 'EVENTS', [{ key: file.path, table: 'scores', fileType: 'JSONL', compressed: false, rowCount: 2 }]));
  ep.connectorConfig.objectStorage = { ...base.objectStorage!, endpoint: s3.httpsUrl, caFile: s3.caFile };
  await ep.startConnector();
  assert.equal((await readRawRecords(`${ep.fx.name}.langfuse_export.scores`, 2, 30_000)).length, 2, 'the run read over TLS');
});

test('Parquet files past maxFileBytes are read by row group: sent whole, or rejected whole for a bad row in their last group', async (t) => {
  const ep = await exportPipeline(t, 'osbig', 'langsmith-export', 'ls/');
  ep.connectorConfig.objectStorage = { ...ep.connectorConfig.objectStorage!, maxFileBytes: 30_000 }; // the files are larger, their row groups (~180 KB) under 8 × that
  const dir = 'ls/export_id=e1/tenant_id=t1/session_id=s1/runs/year=2026/month=8/day=19';
  const runs = (prefix: string) => Array.from({ length: 3000 }, (_, i) => langsmithRun({ id: `${prefix}-${i}`, trace: `${prefix}-${i}`, at: i, inputs: JSON.stringify({ q: `question ${i}` }) }));
  const bad = runs('bad');
  bad[2999] = { ...bad[2999]!, id: null }; // a row without its key, in the last row group
  await ep.bucket.write([
    { path: `${dir}/good.parquet`, format: 'parquet', table: 'langsmith/runs', rows: runs('good'), rowGroupSize: 500 },
    { path: `${dir}/bad.parquet`, format: 'parquet', table: 'langsmith/runs', rows: bad, rowGroupSize: 500 },
  ]);
  const listed = await ep.bucket.admin.send(new ListObjectsV2Command({ Bucket: ep.bucket.bucket, Prefix: dir }));
  assert.ok((listed.Contents ?? []).every((o) => (o.Size ?? 0) > 30_000), 'both files are past maxFileBytes');
  await ep.startConnector();
  const topic = `${ep.fx.name}.langsmith_export.runs`;
  assert.equal((await readRawRecords(topic, 3000, 30_000)).length, 3000, 'the good file\'s 3,000 runs, read in 6 row groups');
  await until('the bad file rejected', () => (ep.connectorStatus().find((x) => x.table === 'langsmith_export.runs')?.rejectedFiles ?? []).length > 0, 30_000);
  const records = await readRawRecords(topic, 3001, 2_000);
  assert.equal(records.length, 3000, 'nothing of the bad file');
  assert.ok(records.every((r) => r.key!.toString().includes('good-')), 'no run of the rejected file was sent');
  const rejected = ep.connectorStatus().find((x) => x.table === 'langsmith_export.runs')?.rejectedFiles ?? [];
  assert.deepEqual(rejected.map((r) => [r.file, r.code]), [[`${dir}/bad.parquet`, 'FILE_UNREADABLE']]);
});
