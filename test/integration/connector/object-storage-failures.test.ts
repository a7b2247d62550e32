// The object-storage source's failures at start name their fix (wrong credentials, an identity without List, a
// missing bucket, an unreachable or untrusted endpoint), and the source reads over TLS with the stack's CA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connector } from '../../../connector/src/connector.ts';
import { parseConnectorConfig, type ConnectorConfigInput } from '../../../connector/src/config.ts';
import { testLog } from '../../support/connector.ts';
import { exportPipeline } from '../../support/export-pipeline.ts';
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

  ep.connectorConfig.objectStorage = { ...base.objectStorage!, endpoint: s3.httpsUrl, caFile: s3.caFile };
  const connector = await ep.startConnector();
  assert.equal(connector.status, 'RUNNING', 'lists the prefix over TLS');
});
