// LangSmith bulk exports in a bucket: Parquet files of runs under Hive-style partitions,
//   <prefix>/export_id=…/tenant_id=…/session_id=…/{runs|resource=runs}/year=…/month=…/day=…/<file>.parquet
// Each file is a unit taken once (files of a finished export are not rewritten; a later export of the same
// window is a new export_id tree). The partition values in the path become columns when the file lacks them.
// Pure.
import type { ExportUnit } from './export-unit.ts';
import type { StoredObject } from './object-store.ts';

const PARTITION = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
/** partition keys kept as columns (year/month/day only restate start_time; resource is always runs) */
const PATH_COLUMNS = new Set(['export_id', 'tenant_id', 'session_id']);

export function langsmithUnits(listing: StoredObject[], prefix: string): ExportUnit[] {
  const units: ExportUnit[] = [];
  for (const o of listing) {
    if (!o.key.endsWith('.parquet')) continue; // e.g. the destination check's tmp/*.txt
    const parts = o.key.slice(prefix.length).split('/');
    const at = parts.findIndex((p) => p.startsWith('export_id='));
    if (at < 0) continue;
    const segments = parts.slice(at, -1);
    if (!segments.some((p) => p === 'runs' || p === 'resource=runs')) continue;
    const pathColumns: Record<string, string> = {};
    for (const s of segments) {
      const m = PARTITION.exec(s);
      if (m && PATH_COLUMNS.has(m[1]!)) pathColumns[m[1]!] = decodeURIComponent(m[2]!);
    }
    units.push({
      key: o.key, etag: o.etag, timeUs: BigInt(o.lastModifiedMs) * 1000n,
      files: [{ key: o.key, table: 'runs', format: 'parquet', compressed: false, pathColumns }],
    });
  }
  return units;
}
