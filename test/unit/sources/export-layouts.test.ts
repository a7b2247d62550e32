import { test } from 'node:test';
import assert from 'node:assert/strict';
import { langfuseManifest, langfuseUnits, ManifestError } from '../../../sources/object-storage/langfuse-layout.ts';
import { langsmithUnits } from '../../../sources/object-storage/langsmith-layout.ts';
import { emptyExportState, pendingUnits, pruneToListing, takeUnit } from '../../../sources/object-storage/taken-files.ts';
import type { StoredObject } from '../../../sources/object-storage/object-store.ts';

const obj = (key: string, etag = 'e1', lastModifiedMs = 1_790_000_000_000): StoredObject => ({ key, etag, size: 10, lastModifiedMs });
const TABLES = new Set(['traces', 'observations', 'observations_v2', 'scores']);

test('Langfuse: a run is its manifest; data files and other objects are not units', () => {
  const listing = [
    obj('lf/p1/manifests/2026-08-22T07-40-00.json'), obj('lf/p1/observations_v2/2026-08-22T07-40-00.jsonl.gz'),
    obj('lf/p1/DEPRECATION_NOTICE.txt'), obj('lf/p2/manifests/2026-08-22T08-00-00.json'), obj('other/p1/manifests/x.json'),
  ];
  assert.deepEqual(langfuseUnits(listing, 'lf/').map((u) => u.key), ['lf/p1/manifests/2026-08-22T07-40-00.json', 'lf/p2/manifests/2026-08-22T08-00-00.json']);
});

test('Langfuse manifest: files with format and compression; the window end orders the run', () => {
  const m = langfuseManifest(JSON.stringify({
    version: 1, projectId: 'p1', exportSource: 'TRACES_OBSERVATIONS_EVENTS',
    window: { minTimestamp: '2026-08-22T06:40:00.000Z', maxTimestamp: '2026-08-22T07:40:00.500Z' }, maxTimestamp: '2026-08-22T07:40:00.500Z',
    files: [
      { key: 'lf/p1/scores/2026-08-22T07-40-00.csv.gz', table: 'scores', fileType: 'CSV', format: 'csv-gzip', compressed: true, sizeBytes: 9, rowCount: 3 },
      { key: 'lf/p1/observations_v2/2026-08-22T07-40-00.parquet', table: 'observations_v2', fileType: 'PARQUET', format: 'parquet', compressed: false, rowCount: null },
    ],
  }), TABLES);
  assert.equal(m.windowEndUs, BigInt(Date.parse('2026-08-22T07:40:00.500Z')) * 1000n);
  assert.deepEqual(m.files, [
    { key: 'lf/p1/scores/2026-08-22T07-40-00.csv.gz', table: 'scores', format: 'csv', compressed: true, rowCount: 3 },
    { key: 'lf/p1/observations_v2/2026-08-22T07-40-00.parquet', table: 'observations_v2', format: 'parquet', compressed: false },
  ]);
  assert.throws(() => langfuseManifest('{"version":1', TABLES), ManifestError);
  assert.throws(() => langfuseManifest('{"version":2,"window":{"maxTimestamp":"2026-01-01T00:00:00Z"},"files":[]}', TABLES), /newer than the version 1/);
  assert.throws(() => langfuseManifest('{"version":1,"window":{"maxTimestamp":"2026-01-01T00:00:00Z"},"files":[{"key":"k","table":"media","fileType":"CSV"}]}', TABLES), /table media/);
});

test('LangSmith: every Parquet file under an export_id tree is a unit, both path spellings; partition values become columns', () => {
  const base = 'ls/export_id=e1/tenant_id=t1/session_id=s1';
  const units = langsmithUnits([
    obj(`${base}/runs/year=2026/month=8/day=19/part-0.parquet`), obj(`${base}/resource=runs/year=2026/month=08/day=19/f.parquet`),
    obj('ls/tmp/check.txt'), obj(`${base}/feedback/year=2026/month=8/day=19/x.parquet`),
  ], 'ls/');
  assert.deepEqual(units.map((u) => u.key), [`${base}/runs/year=2026/month=8/day=19/part-0.parquet`, `${base}/resource=runs/year=2026/month=08/day=19/f.parquet`]);
  assert.deepEqual(units[0]!.files, [{ key: units[0]!.key, table: 'runs', format: 'parquet', compressed: false, pathColumns: { export_id: 'e1', tenant_id: 't1', session_id: 's1' } }]);
});

test('taken state: a unit is taken once per entity tag; entries of objects gone from the listing are dropped', () => {
  const a = { key: 'a', etag: '1' };
  const b = { key: 'b', etag: '1' };
  let s = takeUnit(emptyExportState(), a, { 'a/f1': { unit: 'a', table: 'traces', code: 'FILE_UNREADABLE', error: 'x', at: 't' } });
  assert.deepEqual(pendingUnits([a, b], s), [b]);
  assert.deepEqual(pendingUnits([{ key: 'a', etag: '2' }, b], s), [{ key: 'a', etag: '2' }, b], 'a rewritten unit is taken again');
  s = pruneToListing(s, new Set(['b']));
  assert.deepEqual(s, { taken: {}, rejected: {} });
});
