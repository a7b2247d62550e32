// The product's registry client (schemas/src/registry.ts: the connector's registration, the sink's schema
// look-ups) against registries that misbehave on loopback: one that never answers, one that loses a single
// response (what Apicurio 3.3 does now and then with its 404 for an endpoint it lacks — the cause of a 30-minute
// stall in the test suite), one that answers too late, one that drops the connection, one that 404s. Every
// case ends in a bounded time: a retry that succeeds, or an error with its code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SchemaRegistry } from '../../../schemas/src/registry.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';
import type { AvroSchema } from '../../../schemas/src/avro/types.ts';

const TIMEOUT_MS = 400;
/** 4 attempts of TIMEOUT_MS, and at most 3 backoffs of ≤ 2 s (full jitter, 200 ms doubling, capped at 2 s) */
const WORST_CASE_MS = 4 * TIMEOUT_MS + 200 + 400 + 800;
const schema: AvroSchema = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] };

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

async function fakeRegistry(t: { after: (fn: () => void | Promise<void>) => void }, handle: Handler): Promise<{ url: string; requests: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    handle(req, res, ++n);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => n };
}

async function failsWith(p: Promise<unknown>, code: string, retriable: boolean): Promise<number> {
  const started = Date.now();
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof TracelakeError, `a TracelakeError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.retriable, retriable);
    return true;
  });
  return Date.now() - started;
}

const registered = (res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
  res.end(JSON.stringify({ id: 7 }));
};

test('a registry that never answers: registration fails as REGISTRY_UNAVAILABLE after its retries, not at the server idle timeout', { timeout: 30_000 }, async (t) => {
  const fake = await fakeRegistry(t, () => undefined);
  const elapsed = await failsWith(new SchemaRegistry(fake.url, { requestTimeoutMs: TIMEOUT_MS }).register('s-value', schema), 'REGISTRY_UNAVAILABLE', true);
  assert.equal(fake.requests(), 4, 'the request and its 3 retries');
  assert.ok(elapsed < WORST_CASE_MS + 2000, `bounded by the request timeout and backoff (${elapsed} ms)`);
});

test('a registry that loses one response: the request is sent again and registration succeeds', { timeout: 30_000 }, async (t) => {
  const fake = await fakeRegistry(t, (_req, res, n) => {
    if (n > 1) registered(res);
  });
  const got = await new SchemaRegistry(fake.url, { requestTimeoutMs: TIMEOUT_MS }).register('s-value', schema);
  assert.equal(got.id, 7);
  assert.equal(fake.requests(), 2);
});

test('a registry that answers after the request timeout counts as silent: retried, then REGISTRY_UNAVAILABLE', { timeout: 30_000 }, async (t) => {
  const fake = await fakeRegistry(t, (_req, res) => {
    const late = setTimeout(() => registered(res), TIMEOUT_MS * 5);
    res.on('close', () => clearTimeout(late));
  });
  await failsWith(new SchemaRegistry(fake.url, { requestTimeoutMs: TIMEOUT_MS }).register('s-value', schema), 'REGISTRY_UNAVAILABLE', true);
  assert.equal(fake.requests(), 4);
});

test('a registry that drops the connection: retried, then REGISTRY_UNAVAILABLE; the sink\'s schema look-up the same', { timeout: 30_000 }, async (t) => {
  const fake = await fakeRegistry(t, (req) => req.socket.destroy());
  const registry = new SchemaRegistry(fake.url, { requestTimeoutMs: TIMEOUT_MS });
  await failsWith(registry.register('s-value', schema), 'REGISTRY_UNAVAILABLE', true);
  assert.equal(fake.requests(), 4);
  await failsWith(registry.writerSchema(5), 'REGISTRY_UNAVAILABLE', true);
  assert.equal(fake.requests(), 8);
});

test('a registry that 404s (an endpoint it lacks, a lost schema): SCHEMA_NOT_FOUND at once, not retried', { timeout: 30_000 }, async (t) => {
  const fake = await fakeRegistry(t, (_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json', 'content-length': '0' });
    res.end();
  });
  const registry = new SchemaRegistry(fake.url, { requestTimeoutMs: TIMEOUT_MS });
  await failsWith(registry.writerSchema(5), 'SCHEMA_NOT_FOUND', false);
  await failsWith(registry.register('s-value', schema), 'SCHEMA_NOT_FOUND', false);
  assert.equal(fake.requests(), 2, 'one request each');
});

test('a look-up that failed is asked again next time (the failure is not cached)', { timeout: 30_000 }, async (t) => {
  const fake = await fakeRegistry(t, (req, res, n) => {
    if (n <= 4) return void req.socket.destroy(); // the first look-up: all 4 tries lose their connection
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ schema: JSON.stringify(schema) }));
  });
  const registry = new SchemaRegistry(fake.url, { requestTimeoutMs: TIMEOUT_MS });
  await failsWith(registry.writerSchema(5), 'REGISTRY_UNAVAILABLE', true);
  const writer = await registry.writerSchema(5);
  assert.equal(writer.type.toBuffer({ a: 'x' }).length, 2);
  assert.equal(fake.requests(), 5, 'asked again after the failure, once');
  await registry.writerSchema(5);
  assert.equal(fake.requests(), 5, 'a schema found is cached');
});
