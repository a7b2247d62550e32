// Langfuse's blob-storage export in a bucket: per project and run, one file per table
//   {prefix}{projectId}/{traces|observations|observations_v2|scores}/{YYYY-MM-DDTHH-MM-SS}.{ext}[.gz]
// and, written last, the run's manifest {prefix}{projectId}/manifests/{same stem}.json listing every file of the
// run. A manifest is the unit: its run is taken once it exists (a run whose upload failed has none, and its
// retry writes the same keys again). Pure.
import type { ExportFile, ExportUnit } from './export-unit.ts';
import type { StoredObject } from './object-store.ts';
import type { FileFormat } from './file-rows.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';

const MANIFEST = /^[^/]+\/manifests\/[^/]+\.json$/;
const FORMATS: Record<string, FileFormat> = { CSV: 'csv', JSON: 'json', JSONL: 'jsonl', PARQUET: 'parquet' };

export function langfuseUnits(listing: StoredObject[], prefix: string): ExportUnit[] {
  return listing
    .filter((o) => o.key.startsWith(prefix) && MANIFEST.test(o.key.slice(prefix.length)))
    .map((o) => ({ key: o.key, etag: o.etag, timeUs: BigInt(o.lastModifiedMs) * 1000n }));
}

export class ManifestError extends TracelakeError {
  constructor(message: string) {
    super(message, { code: 'MANIFEST_UNREADABLE', remedy: 'check the export run in Langfuse; no file of the run is taken until its manifest is rewritten' });
    this.name = 'ManifestError';
  }
}

export interface LangfuseManifest {
  /** the end of the run's window (µs): the version of rows without updated_at, and their order among runs */
  windowEndUs: bigint;
  exportSource: string;
  files: ExportFile[];
}

/** The files a manifest lists (Langfuse's manifest version 1; fields added later are ignored). */
export function langfuseManifest(text: string, tables: ReadonlySet<string>): LangfuseManifest {
  let m: { version?: unknown; maxTimestamp?: unknown; window?: { maxTimestamp?: unknown }; exportSource?: unknown; files?: unknown };
  try {
    m = JSON.parse(text) as typeof m;
  } catch (err) {
    throw new ManifestError(`the manifest is not JSON: ${(err as Error).message}`);
  }
  if (typeof m.version !== 'number' || m.version < 1) throw new ManifestError('the manifest has no version');
  if (m.version > 1) throw new ManifestError(`manifest version ${m.version} is newer than the version 1 tracelake reads`);
  const end = Date.parse(String(m.window?.maxTimestamp ?? m.maxTimestamp ?? ''));
  if (Number.isNaN(end)) throw new ManifestError('the manifest has no window.maxTimestamp');
  if (!Array.isArray(m.files)) throw new ManifestError('the manifest has no files list');
  const files = (m.files as Array<Record<string, unknown>>).map((f, i): ExportFile => {
    const key = f.key;
    const table = f.table;
    const format = FORMATS[String(f.fileType ?? '').toUpperCase()];
    if (typeof key !== 'string' || typeof table !== 'string' || !format) {
      throw new ManifestError(`files[${i}] lacks its key, table or fileType (CSV, JSON, JSONL or PARQUET)`);
    }
    if (!tables.has(table)) throw new ManifestError(`files[${i}] is of table ${table}, which the langfuse-export preset does not know`);
    return {
      key, table, format, compressed: format !== 'parquet' && f.compressed === true,
      ...(typeof f.rowCount === 'number' ? { rowCount: f.rowCount } : {}),
    };
  });
  return { windowEndUs: BigInt(end) * 1000n, exportSource: String(m.exportSource ?? ''), files };
}
