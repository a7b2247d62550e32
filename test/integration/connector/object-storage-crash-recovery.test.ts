// kill -9 of a connector taking Langfuse export runs, in the middle of a run (a file read, nothing of it sent);
// after a restart Delta holds every exported row once at its latest version: the run cut short is read again
// from its manifest, its rows at the same positions, which the sink's MERGE applies once. And the object store
// going away and coming back while the connector runs.
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportPipeline, lfManifest, observationV2, scoreRow, traceRow } from '../../support/export-pipeline.ts';
import type { ExportFileSpec } from '../../support/object-store.ts';
import { spawnService } from '../../support/service-process.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
import { readRawRecords } from '../../support/kafka.ts';
import { sleep, until } from '../../support/wait.ts';

test('object-storage source killed mid-run: after the restart every exported row is in Delta once, at its latest version', async (t) => {
  const ep = await exportPipeline(t, 'oskill', 'langfuse-export', 'lf/');
  const { bucket, wh, fx } = ep;
  const expected = new Map<string, string>();
  for (let run = 0; run < 3; run++) {
    const stem = `2026-08-22T0${7 + run}-00-00`;
    const v2 = Array.from({ length: 5 }, (_, i) => observationV2({ id: `o-${run}-${i}`, trace: `T${run}`, at: run * 100 + i }));
    // each run also exports the previous run's first observation again, updated
    if (run > 0) v2.push(observationV2({ id: `o-${run - 1}-0`, trace: `T${run - 1}`, at: (run - 1) * 100, updated: run * 100 + 50, output: `final ${run - 1}` }));
    for (const o of v2) expected.set(o.id as string, o.output as string);
    const files: ExportFileSpec[] = [
      { path: `lf/p1/scores/${stem}.jsonl`, format: 'jsonl', table: 'langfuse/scores', rows: [scoreRow(`s${run}`, `T${run}`, null, run * 100, run)] },
      { path: `lf/p1/traces/${stem}.csv.gz`, format: 'csv', gzip: true, table: 'langfuse/traces', rows: [traceRow(`T${run}`, run * 100)] },
      { path: `lf/p1/observations_v2/${stem}.parquet`, format: 'parquet', table: 'langfuse/observations_v2', rows: v2 },
    ];
    await bucket.write(files);
    await bucket.put(`lf/p1/manifests/${stem}.json`, lfManifest('lf/', stem, 'EVENTS', files.map((f) => ({
      key: f.path, table: f.table.split('/')[1]!, fileType: f.format.toUpperCase(), compressed: f.gzip === true, rowCount: f.format === 'parquet' ? null : f.rows.length,
    }))));
  }

  // the 5th file read kills it: run 1's files are in Kafka (and perhaps recorded as taken), run 2's are not
  const first = spawnService('connector', ep.connectorConfig, { TRACELAKE_FAULTS: 'export-file-read:5' });
  t.after(() => first.stop());
  const died = await first.exited;
  assert.equal(died.signal, 'SIGKILL', 'the fault point killed the process mid-run');
  await ep.startSink();
  const second = spawnService('connector', ep.connectorConfig);
  t.after(() => second.stop());

  const want = JSON.stringify([...expected].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, output]) => ({ id, output })));
  const mirror = async () => JSON.stringify((await wh.query(`SELECT id, output FROM ${fx.name}.observations_v2 WHERE NOT _deleted ORDER BY id`).catch(() => [])).map((r) => ({ ...r })));
  let got = '';
  await until('observations_v2 in Delta to hold every exported row at its latest version', async () => (got = await mirror()) === want, 120_000, 1000).catch(() => undefined);
  assert.equal(got, want);
  const [{ n, keys }] = await wh.query<{ n: number; keys: number }>(`SELECT count(*) AS n, count(DISTINCT id) AS keys FROM ${fx.name}.observations_v2`) as [{ n: number; keys: number }];
  assert.equal(Number(n), Number(keys), 'one Delta row per observation: nothing doubled');
  await until('traces and scores', async () => (await wh.query(`SELECT id FROM ${fx.name}.scores`).catch(() => [])).length === 3, 60_000, 1000);
  // REST shows the source's position: the three runs taken
  const offsets = (await second.call('GET', '/offsets')).body as { objectStorage: { taken: Record<string, string>; rejected: object } };
  assert.deepEqual(Object.keys(offsets.objectStorage.taken).sort(), ['07', '08', '09'].map((h) => `lf/p1/manifests/2026-08-22T${h}-00-00.json`));
  assert.deepEqual(offsets.objectStorage.rejected, {});
});

test('the object store going away mid-capture: the source starts over once it is back, from its last committed run, nothing sent twice', async (t) => {
  const ep = await exportPipeline(t, 'osgone', 'langfuse-export', 'lf/');
  const { bucket, fx } = ep;
  const run = async (stem: string, ids: string[]) => {
    const files: ExportFileSpec[] = [{ path: `lf/p1/observations_v2/${stem}.jsonl.gz`, format: 'jsonl', gzip: true, table: 'langfuse/observations_v2',
      rows: ids.map((id, i) => observationV2({ id, trace: stem, at: i })) }];
    await bucket.write(files);
    await bucket.put(`lf/p1/manifests/${stem}.json`, lfManifest('lf/', stem, 'EVENTS', [{ key: files[0]!.path, table: 'observations_v2', fileType: 'JSONL', compressed: true, rowCount: ids.length }]));
  };
  const topic = `${fx.name}.langfuse_export.observations_v2`;
  await run('2026-08-22T07-00-00', ['a', 'b', 'c']);
  const connector = await ep.startConnector();
  assert.equal((await readRawRecords(topic, 3, 30_000)).length, 3);

  execFileSync(`${ROOT}scripts/stack/seaweedfs.sh`, ['down'], { stdio: 'inherit' });
  await sleep(2500); // listings fail meanwhile (pollIntervalMs 500)
  execFileSync(`${ROOT}scripts/stack/seaweedfs.sh`, ['up'], { stdio: 'inherit' });
  await run('2026-08-22T07-20-00', ['d', 'e']);
  assert.equal((await readRawRecords(topic, 5, 60_000)).length, 5, 'the run written after the store came back is taken');
  assert.equal((await readRawRecords(topic, 6, 5_000)).length, 5, 'the run taken before the outage is not sent again');
  assert.equal(connector.status, 'RUNNING');
});
