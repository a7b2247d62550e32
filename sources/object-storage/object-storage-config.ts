// The object-storage source's section of the connector configuration (connector/src/config.ts): a bucket prefix
// that a trace platform exports files to (docs/sources/object-storage.md).
import { z } from 'zod';

export const EXPORT_PLATFORMS = ['langfuse-export', 'langsmith-export'] as const;
export type ExportPlatform = (typeof EXPORT_PLATFORMS)[number];

export const objectStorageSourceSchema = z.strictObject({
  platform: z.enum(EXPORT_PLATFORMS)
    .describe('whose exports the prefix holds: langfuse-export (Langfuse blob-storage export: manifests and their files) or langsmith-export (LangSmith bulk export: Parquet runs)'),
  bucket: z.string().min(1).describe('the bucket the platform exports to'),
  prefix: z.string().default('').describe('the key prefix of the export as configured in the platform (Langfuse: its "prefix"; LangSmith: the destination prefix), e.g. "langfuse/"'),
  endpoint: z.string().regex(/^https?:\/\/[^\s/]+/, 'an http(s):// URL').optional()
    .describe('S3 API endpoint for S3-compatible stores (MinIO, SeaweedFS, Cloudflare R2, GCS: https://storage.googleapis.com); default: AWS S3 of the region'),
  region: z.string().default('us-east-1').describe('the bucket\'s region (S3-compatible stores: any value they accept)'),
  forcePathStyle: z.boolean().default(false).describe('address the bucket as <endpoint>/<bucket> instead of <bucket>.<endpoint> (most S3-compatible stores need true)'),
  accessKeyId: z.string().optional().describe('access key; default: the AWS SDK\'s chain (environment, profile, web identity, instance role). Prefer ${env:NAME} or ${file:/path}'),
  secretAccessKey: z.string().optional().describe('its secret; prefer ${env:NAME} or ${file:/path}'),
  caFile: z.string().optional().describe('PEM file of the CA to trust for an https:// endpoint (default: the system\'s)'),
  pollIntervalMs: z.number().int().positive().default(30_000)
    .describe('how often the prefix is listed for new exports (exports run every 20 minutes at the most often, so seconds are plenty)'),
  requestTimeoutMs: z.number().int().positive().default(120_000).describe('longest wait for one request to the store (a file download included)'),
  maxFileBytes: z.number().int().positive().default(32 << 20)
    .describe('largest export file read whole into memory (peak RSS about 0.8 GB for a 20 MB file holding 80 MB of text, within the chart\'s 1 GiB: docs/benchmarks.md); a larger Parquet file is read one row group at a time (twice: checked, then sent), a larger CSV/JSON/JSONL file is dead-lettered naming its key (docs/sources/object-storage.md)'),
}).describe('a bucket prefix a trace platform exports files to');

export type ObjectStorageSourceConfig = z.output<typeof objectStorageSourceSchema>;

/** The key of the source's state in the state topic (here, not in the source: the service reads it without loading the S3 client). */
export function objectStorageStateKey(cfg: { kafka: { topicPrefix: string } }, os: Pick<ObjectStorageSourceConfig, 'bucket' | 'prefix'>): string {
  return `objectstorage:${cfg.kafka.topicPrefix}:${os.bucket}/${os.prefix}`;
}
