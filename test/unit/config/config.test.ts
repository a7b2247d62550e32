import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConnectorConfig } from '../../../connector/src/config.ts';
import { parseSinkConfig } from '../../../sink/src/config.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';

const connector = { source: { url: 'postgres://u@h/db', tables: ['public.spans'] }, kafka: { brokers: ['k:9092'] }, registry: { url: 'http://r:8081' } };

test('connector defaults: filtered publication, initial snapshot, precise decimals, tombstones', () => {
  const c = parseConnectorConfig(connector);
  assert.equal(c.source.publication.autocreate, 'filtered');
  assert.equal(c.source.snapshot.mode, 'initial');
  assert.equal(c.source.decimalMode, 'precise');
  assert.equal(c.kafka.tombstonesOnDelete, true);
  assert.equal(c.source.slot.whenBusy, 'wait');
});

test('every problem is named with its field; unknown keys are errors', () => {
  assert.throws(() => parseConnectorConfig({ ...connector, source: { ...connector.source, tables: ['spans'], slots: {} } }), (e: unknown) =>
    e instanceof TracelakeError && e.code === 'BAD_CONFIG' && /source\.tables\.0: write tables as schema\.table/.test(e.message) && /unknown key "slots" \(did you mean "slot"\?\)/.test(e.message));
});

test('sink: a dead-letter topic is required when errors are tolerated', () => {
  const base = { kafka: { brokers: ['k'] }, registry: { url: 'http://r' }, warehouse: { host: 'h', path: '/sql/1.0/warehouses/x', token: 't' } };
  assert.equal(parseSinkConfig(base).deleteMode, 'hard');
  assert.throws(() => parseSinkConfig({ ...base, errors: { tolerance: 'all' } }), /errors\.deadLetterTopic: required/);
});
