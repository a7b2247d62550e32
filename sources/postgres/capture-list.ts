// Which tables a configuration captures: the ones named, or the platform preset's.
import { LANGFUSE_TRACE_TABLES, PRESETS } from '../../schemas/src/platforms.ts';
import type { ConnectorConfig } from '../../connector/src/config.ts';

export interface CaptureList {
  /** schema.table */
  tables: string[];
  /** from a platform preset: tables missing in this database version are skipped, not errors */
  fromPreset: boolean;
  /** preset tables left out on purpose, with the reason */
  excluded: Record<string, string>;
}

/** `traceTablesInClickHouse`: a ClickHouse source captures Langfuse's trace tables, so Postgres' (v3: stale copies) are not. */
export function captureList(source: ConnectorConfig['source'], traceTablesInClickHouse = false): CaptureList {
  const { platform, tables, schema } = source;
  if (tables.length > 0 || platform === 'custom') return { tables, fromPreset: false, excluded: {} };
  const preset = PRESETS[platform];
  const elsewhere = platform === 'langfuse' && traceTablesInClickHouse ? LANGFUSE_TRACE_TABLES : [];
  const excluded = { ...preset.excluded, ...Object.fromEntries(elsewhere.map((t) => [t, 'captured from ClickHouse (the clickhouse section)'])) };
  return {
    tables: preset.tables.filter((t) => !elsewhere.includes(t)).map((t) => `${schema}.${t}`), fromPreset: true,
    excluded: Object.fromEntries(Object.entries(excluded).map(([t, why]) => [`${schema}.${t}`, why])),
  };
}
