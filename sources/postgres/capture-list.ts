// Which tables a configuration captures: the ones named, or the platform preset's.
import { PRESETS } from '../../schemas/src/platforms.ts';
import type { ConnectorConfig } from '../../connector/src/config.ts';

export interface CaptureList {
  /** schema.table */
  tables: string[];
  /** from a platform preset: tables missing in this database version are skipped, not errors */
  fromPreset: boolean;
  /** preset tables left out on purpose, with the reason */
  excluded: Record<string, string>;
}

export function captureList(source: ConnectorConfig['source']): CaptureList {
  const { platform, tables, schema } = source;
  if (tables.length > 0 || platform === 'custom') return { tables, fromPreset: false, excluded: {} };
  const preset = PRESETS[platform];
  return {
    tables: preset.tables.map((t) => `${schema}.${t}`), fromPreset: true,
    excluded: Object.fromEntries(Object.entries(preset.excluded).map(([t, why]) => [`${schema}.${t}`, why])),
  };
}
