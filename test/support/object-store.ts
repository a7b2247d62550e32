// The stack's S3-compatible store (scripts/stack/seaweedfs.sh, started on demand), a bucket per test, and export
// files written by real writers (test/fixtures/export-files/write_exports.py: pyarrow, csv, gzip) into it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { onDemandService, uniqueName } from './stack.ts';
import type { ConnectorConfigInput } from '../../connector/src/config.ts';

type ObjectStorageSection = NonNullable<ConnectorConfigInput['objectStorage']>;
const ROOT = new URL('../../', import.meta.url).pathname;

export interface S3Stack {
  url: string;
  httpsUrl: string;
  accessKey: string;
  secretKey: string;
  readerKey: string;
  readerSecret: string;
  noListKey: string;
  noListSecret: string;
  caFile: string;
}

let cached: S3Stack | undefined;

/** Starts the stack's object store if it is not running, and says where it is. */
export function s3Stack(): S3Stack {
  if (cached) return cached;
  const get = onDemandService('seaweedfs');
  cached = {
    url: get('TL_S3_URL'), httpsUrl: get('TL_S3_HTTPS_URL'), accessKey: get('TL_S3_ACCESS_KEY'), secretKey: get('TL_S3_SECRET_KEY'),
    readerKey: get('TL_S3_READER_KEY'), readerSecret: get('TL_S3_READER_SECRET'), noListKey: get('TL_S3_NOLIST_KEY'), noListSecret: get('TL_S3_NOLIST_SECRET'),
    caFile: get('TL_S3_CA_FILE'),
  };
  return cached;
}

/** One export file as the writer takes it (write_exports.py). */
export interface ExportFileSpec {
  /** the object key */
  path: string;
  format: 'parquet' | 'csv' | 'json' | 'jsonl';
  gzip?: boolean;
  /** <platform>/<table>: the Parquet column types */
  table: string;
  rows: Array<Record<string, unknown>>;
  codec?: 'zstd' | 'snappy' | 'gzip';
  /** rows per Parquet row group */
  rowGroupSize?: number;
  /** keep only this many bytes (a truncated upload) */
  truncate?: number;
}

export interface ExportBucket {
  bucket: string;
  admin: S3Client;
  put(key: string, body: string | Uint8Array): Promise<void>;
  remove(key: string): Promise<void>;
  /** writes the files with the real writers and uploads them, in order */
  write(files: ExportFileSpec[]): Promise<void>;
  /** the connector's objectStorage section, read with the reader identity (Read and List) */
  source(platform: ObjectStorageSection['platform'], overrides?: Partial<ObjectStorageSection>): ObjectStorageSection;
  cleanup(): Promise<void>;
}

export async function exportBucket(prefix: string): Promise<ExportBucket> {
  const s3 = s3Stack();
  const bucket = uniqueName(prefix).toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const admin = new S3Client({ region: 'us-east-1', endpoint: s3.url, forcePathStyle: true, credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey } });
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  const python = execFileSync(`${ROOT}scripts/stack/fixture-python.sh`, ['python'], { encoding: 'utf8' }).trim();
  const put = async (key: string, body: string | Uint8Array) => { await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })); };
  return {
    bucket, admin, put,
    remove: async (key) => { await admin.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })); },
    async write(files) {
      const dir = mkdtempSync(join(tmpdir(), 'tl-exports-'));
      try {
        execFileSync(python, [`${ROOT}test/fixtures/export-files/write_exports.py`], { input: JSON.stringify({ outDir: dir, files }), stdio: ['pipe', 'inherit', 'inherit'] });
        for (const f of files) await put(f.path, readFileSync(join(dir, f.path)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    source: (platform, overrides = {}) => ({
      platform, bucket, endpoint: s3.url, region: 'us-east-1', forcePathStyle: true,
      accessKeyId: s3.readerKey, secretAccessKey: s3.readerSecret, pollIntervalMs: 500, ...overrides,
    }),
    async cleanup() {
      const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket })).catch(() => undefined);
      for (const o of listed?.Contents ?? []) await admin.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! })).catch(() => undefined);
      await admin.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      admin.destroy();
    },
  };
}
