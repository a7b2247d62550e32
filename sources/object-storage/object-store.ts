// The object store an export source reads, behind a small interface (listing a prefix, reading one object), and
// its S3 implementation on the AWS SDK — AWS S3 and the S3-compatible stores (GCS's XML API, MinIO, SeaweedFS, R2).
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { ObjectStorageSourceConfig } from './object-storage-config.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { isNetworkError } from '../../runtime/network-errors.ts';

export interface StoredObject {
  key: string;
  size: number;
  /** the store's entity tag (changes when the object is rewritten) */
  etag: string;
  lastModifiedMs: number;
}

export interface ObjectStore {
  /** Every object under the prefix, in key order. */
  list(prefix: string): Promise<StoredObject[]>;
  /** One object's bytes; FILE_MISSING when it does not exist. */
  get(key: string): Promise<Uint8Array>;
  /** Bytes [start, end) of an object. */
  range(key: string, start: number, end: number): Promise<ArrayBuffer>;
  close(): void;
}

const OVERLOADED = new Set(['SlowDown', 'ServiceUnavailable', 'InternalError']);
const AUTH_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'CredentialsProviderError', 'AuthorizationHeaderMalformed']);

/** The store (or the way to it) went away or is overloaded: a new run once it answers. */
export function isObjectStoreLoss(err: unknown): boolean {
  if (isNetworkError(err)) return true;
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: number }; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.name === 'string' && OVERLOADED.has(e.name)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  return e.cause !== undefined && e.cause !== err ? isObjectStoreLoss(e.cause) : false;
}

/** What a failed request means, as an error with a code and a remedy (a loss keeps its cause, so it is still recognised). */
export function describeStoreFailure(err: unknown, cfg: Pick<ObjectStorageSourceConfig, 'bucket' | 'endpoint'>, what: string): TracelakeError {
  const where = `bucket ${cfg.bucket}${cfg.endpoint ? ` at ${cfg.endpoint}` : ''}`;
  const name = (err as { name?: string })?.name ?? '';
  const message = (err as Error)?.message ?? String(err);
  if (AUTH_CODES.has(name) || /credential/i.test(name)) {
    return new TracelakeError(`the object store refused the credentials while ${what} (${where}): ${message}`, {
      code: 'OBJECT_STORE_AUTH_FAILED', cause: err, remedy: 'check objectStorage.accessKeyId and secretAccessKey (or the AWS credential chain) and objectStorage.region',
    });
  }
  if (name === 'AccessDenied' || (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 403) {
    return new TracelakeError(`access denied while ${what} (${where}): ${message}`, {
      code: 'OBJECT_STORE_ACCESS_DENIED', cause: err, remedy: 'grant s3:ListBucket on the bucket (for the prefix) and s3:GetObject on the prefix\'s objects (docs/sources/object-storage.md)',
    });
  }
  const code = String((err as { code?: unknown })?.code ?? (err as { cause?: { code?: unknown } })?.cause?.code ?? '');
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return new TracelakeError(`the TLS certificate of the object store was not accepted while ${what} (${where}, ${code})`, {
      code: 'OBJECT_STORE_TLS', cause: err, remedy: 'set objectStorage.caFile to the CA that signed the endpoint\'s certificate, and check that the host name matches it',
    });
  }
  if (name === 'NoSuchBucket') {
    return new TracelakeError(`${where} does not exist`, { code: 'OBJECT_STORE_BUCKET_MISSING', cause: err, remedy: 'check objectStorage.bucket, endpoint and region' });
  }
  if (name === 'NoSuchKey') {
    return new TracelakeError(`${what}: the object does not exist in ${where}`, { code: 'FILE_MISSING', cause: err, remedy: 'the export lists a file the store does not have: check the bucket\'s lifecycle rules and the platform\'s export logs' });
  }
  if (isObjectStoreLoss(err)) {
    return new TracelakeError(`the object store is not reachable while ${what} (${where}): ${message}`, {
      code: 'OBJECT_STORE_UNREACHABLE', cause: err, retriable: true, remedy: 'check objectStorage.endpoint (scheme, host, port) and that the store runs',
    });
  }
  return new TracelakeError(`the object store failed while ${what} (${where}): ${message}`, { code: 'OBJECT_STORE_FAILED', cause: err, remedy: 'see the message' });
}

export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;
  private readonly cfg: ObjectStorageSourceConfig;

  constructor(cfg: ObjectStorageSourceConfig) {
    this.cfg = cfg;
    const credentials = cfg.accessKeyId && cfg.secretAccessKey ? { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey } : undefined;
    this.client = new S3Client({
      region: cfg.region, forcePathStyle: cfg.forcePathStyle, maxAttempts: 2,
      // checksums only where S3 requires them: S3-compatible stores (GCS's XML API among them) reject or lack the
      // flexible checksums the SDK otherwise adds and validates
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
      ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
      requestHandler: {
        requestTimeout: cfg.requestTimeoutMs, connectionTimeout: 10_000,
        ...(cfg.caFile ? { httpsAgent: new Agent({ ca: readFileSync(cfg.caFile), keepAlive: true }) } : {}),
      },
    });
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.cfg.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue;
          out.push({ key: o.Key, size: o.Size ?? 0, etag: o.ETag ?? '', lastModifiedMs: o.LastModified?.getTime() ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw describeStoreFailure(err, this.cfg, `listing ${prefix || '(the whole bucket)'}`);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      if (!r.Body) throw new Error('empty response body');
      return await r.Body.transformToByteArray();
    } catch (err) {
      throw describeStoreFailure(err, this.cfg, `reading ${key}`);
    }
  }

  async range(key: string, start: number, end: number): Promise<ArrayBuffer> {
    if (end <= start) return new ArrayBuffer(0);
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.cfg.bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
      if (!r.Body) throw new Error('empty response body');
      const bytes = await r.Body.transformToByteArray();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    } catch (err) {
      throw describeStoreFailure(err, this.cfg, `reading bytes ${start}–${end} of ${key}`);
    }
  }

  close(): void {
    this.client.destroy();
  }
}
