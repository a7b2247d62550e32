// The catalogue of bad configurations: each is rejected before anything starts, with the field, the value
// found (secrets never shown) and what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConnectorConfig } from '../../../connector/src/config.ts';
import { parseSinkConfig } from '../../../sink/src/config.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';

const connector = () => ({
  source: { url: 'postgres://app:s3cr3t@db:5432/phoenix', tables: ['public.spans'] },
  kafka: { brokers: ['kafka:9092'] }, registry: { url: 'http://registry:8081' },
}) as Record<string, any>;
const sink = () => ({
  kafka: { brokers: ['kafka:9092'] }, registry: { url: 'http://registry:8081' },
  warehouse: { host: 'dbc-1.cloud.databricks.com', path: '/sql/1.0/warehouses/abc', token: 'dapi-very-secret-token' },
}) as Record<string, any>;

/** [name, service, mutate, every line the error must contain] */
const cases: Array<[string, 'connector' | 'sink', (c: Record<string, any>) => void, RegExp[]]> = [
  ['missing source section', 'connector', (c) => delete c.source, [/source: .*expected object.*\(found: nothing\) → this field is required/]],
  ['source.url not a postgres URL', 'connector', (c) => (c.source.url = 'mysql://x'), [/source\.url: a postgres:\/\/ connection URL \(found: "mysql:\/\/x"\)/]],
  ['table without schema', 'connector', (c) => (c.source.tables = ['spans']), [/source\.tables\.0: write tables as schema\.table, e\.g\. public\.spans \(found: "spans"\)/]],
  ['custom platform without tables', 'connector', (c) => (c.source.tables = []), [/source\.tables: name at least one table to capture/]],
  ['typo in a key', 'connector', (c) => (c.source.slots = { name: 'x' }), [/source: unknown key "slots" \(did you mean "slot"\?\) → remove it; known keys here: url, /]],
  ['unknown top-level key', 'connector', (c) => (c.sources = {}), [/\(root\): unknown key "sources" \(did you mean "source"\?\)/]],
  ['bad enum value', 'connector', (c) => (c.source.snapshot = { mode: 'always' }), [/source\.snapshot\.mode: .*\(found: "always"\) → use one of "initial", "no_data", "when_needed", "initial_only"/]],
  ['slot name needing quotes', 'connector', (c) => (c.source.slot = { name: 'My-Slot' }), [/source\.slot\.name: use lower-case letters, digits and _ .*\(found: "My-Slot"\)/]],
  ['no brokers', 'connector', (c) => (c.kafka.brokers = []), [/kafka\.brokers: .*\(found: \[\]\) → use at least 1 item/]],
  ['partitions as a string', 'connector', (c) => (c.kafka.partitions = '3'), [/kafka\.partitions: .*expected number.*\(found: "3"\) → write a number/]],
  ['negative chunk size', 'connector', (c) => (c.source.snapshot = { chunkRows: -5 }), [/source\.snapshot\.chunkRows: .*\(found: -5\)/]],
  ['registry URL not a URL', 'connector', (c) => (c.registry.url = 'registry:8081'), [/registry\.url: an http\(s\) URL .*\(found: "registry:8081"\)/]],
  ['REST port out of range', 'connector', (c) => (c.http = { port: 70000 }), [/http\.port: .*\(found: 70000\) → use at most 65535/]],
  ['short REST token, value not shown', 'connector', (c) => (c.http = { token: 'abc' }), [/http\.token: use a token of at least 16 characters \(found: \[redacted\]\)/]],
  ['bad state', 'connector', (c) => (c.state = 'halted'), [/state: .*\(found: "halted"\) → use one of "running", "paused", "stopped"/]],
  ['several problems at once', 'connector', (c) => { c.kafka.brokers = 'kafka:9092'; c.source.decimalMode = 'float'; }, [/kafka\.brokers: .*expected array/, /source\.decimalMode: .*"float"/]],
  ['sink: warehouse missing', 'sink', (c) => delete c.warehouse, [/warehouse: .*\(found: nothing\) → this field is required/]],
  ['sink: warehouse path without slash', 'sink', (c) => (c.warehouse.path = 'sql/1.0/warehouses/abc'), [/warehouse\.path: .*\(found: "sql\/1\.0\/warehouses\/abc"\)/]],
  ['sink: token empty, value not shown', 'sink', (c) => (c.warehouse.token = ''), [/warehouse\.token: .*\(found: \[redacted\]\)/]],
  ['sink: DLQ tolerance without topic', 'sink', (c) => (c.errors = { tolerance: 'all' }), [/errors\.deadLetterTopic: required when errors\.tolerance is all/]],
  ['sink: a table property value that could end its literal', 'sink', (c) => (c.tableProperties = { 'delta.appendOnly': "true', 'x" }), [/tableProperties\.delta\.appendOnly: a property value without quotes, backslashes or \$/]],
  ['sink: a table property name that is not one', 'sink', (c) => (c.tables = { 'public.spans': { tableProperties: { 'a b': 'x' } } }), [/tables\.public\.spans\.tableProperties\.a b: a property name/]],
  ['sink: bad delete mode', 'sink', (c) => (c.deleteMode = 'purge'), [/deleteMode: .*\(found: "purge"\) → use one of "hard", "soft"/]],
  ['sink: per-table typo', 'sink', (c) => (c.tables = { 'public.spans': { clusterby: ['start_time'] } }), [/tables\.public\.spans: unknown key "clusterby" \(did you mean "clusterBy"\?\)/]],
  ['the same table listed twice', 'connector', (c) => (c.source.tables = ['public.spans', 'public.spans']), [/source\.tables\.1: public\.spans is listed twice/]],
  ['sink: two tables given one Delta name', 'sink', (c) => (c.tables = { 'public.a': { name: 'spans' }, 'other.b': { name: 'Spans' } }), [/tables\.other\.b\.name: "Spans" is already the Delta name of public\.a/]],
  ['sink: neither token nor oauth', 'sink', (c) => delete c.warehouse.token, [/warehouse\.token: required: a token, or warehouse\.oauth/]],
  ['sink: both token and oauth', 'sink', (c) => (c.warehouse.oauth = { clientId: 'sp', clientSecret: 'dose-secret-value' }), [/warehouse\.oauth: give warehouse\.token or warehouse\.oauth, not both/]],
  ['sink: zero batch size', 'sink', (c) => (c.batching = { maxRows: 0 }), [/batching\.maxRows: .*\(found: 0\)/]],
];

for (const [name, service, mutate, expected] of cases) {
  test(`bad config: ${name}`, () => {
    const c = service === 'connector' ? connector() : sink();
    mutate(c);
    const parse = service === 'connector' ? parseConnectorConfig : parseSinkConfig;
    assert.throws(() => parse(c), (e: unknown) => {
      assert.ok(e instanceof TracelakeError && e.code === 'BAD_CONFIG', `a BAD_CONFIG error, got ${String(e)}`);
      for (const re of expected) assert.match(e.message, re);
      assert.doesNotMatch(e.message, /s3cr3t|dapi-very-secret-token|dose-secret-value/, 'secrets are never echoed');
      assert.match(e.remedy, /docs\/configuration\.md/);
      return true;
    });
  });
}

test('the catalogue covers at least 15 cases and a valid config passes', () => {
  assert.ok(cases.length >= 15);
  assert.equal(parseConnectorConfig(connector()).http.port, 8083);
  assert.equal(parseSinkConfig(sink()).http.port, 8084);
});
