// A unit of export files the object-storage source takes at once and records as taken (its commit point): a
// Langfuse export run (its manifest and the files it lists), a LangSmith Parquet file. Pure types.
import type { FileFormat } from './file-rows.ts';

export interface ExportFile {
  key: string;
  /** the table its rows go to */
  table: string;
  format: FileFormat;
  compressed: boolean;
  /** values the key's path gives (Hive-style partitions), added as columns where the rows lack them */
  pathColumns?: Record<string, string>;
  /** the row count the export reports for it, when it does */
  rowCount?: number;
}

export interface ExportUnit {
  /** the object whose key identifies the unit (a manifest, or the file itself) */
  key: string;
  etag: string;
  /** when the export wrote it (µs): the version of rows without their own update time, and their order among exports */
  timeUs: bigint;
  /** its files; undefined until its manifest is read */
  files?: ExportFile[];
}
