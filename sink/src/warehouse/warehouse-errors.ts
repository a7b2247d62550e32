// How the sink tells warehouse failures apart (one classifier for the warehouse, unit-tested): what is worth
// running again with backoff, what says the target table is gone, and what says another writer created it first.
import { TracelakeError } from '../../../schemas/src/errors.ts';

/** Network failures, 5xx/429 answers and Delta's commit conflicts: the statement may succeed if run again. SQL errors are not transient. */
export function isTransient(err: unknown): boolean {
  if (err instanceof TracelakeError) return err.retriable;
  // Delta's optimistic concurrency (its ConcurrentModificationException family): another writer — a second
  // sink replica during a rebalance — committed to the table first, changed its data, metadata or protocol
  // (creating it with clustering); every statement the sink runs is idempotent, so running it again is safe
  // (named exactly: java.util.ConcurrentModificationException is an engine bug, not a conflict to retry)
  if (/DELTA_CONCURRENT_|DELTA_METADATA_CHANGED|DELTA_PROTOCOL_CHANGED|\b(Concurrent(Append|DeleteRead|DeleteDelete|Transaction|Write)|MetadataChanged|ProtocolChanged)Exception/.test(`${(err as Error)?.message ?? ''}`)) return true;
  // the warehouse ran the statement and refused it: its message may contain row values, never retry on it
  if ((err as Error)?.name === 'WarehouseStatementError' || (err as { errorCode?: string })?.errorCode === 'ERROR') return false;
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? String(err)} ${(err as { code?: string })?.code ?? ''}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EPIPE|socket hang up|network|fetch failed|\b50[0234]\b|\b429\b|unavailable|starting|RetryError|timed? ?out/i.test(text);
}

/** The statement failed because its target (or tombstone) table does not exist. */
export function isTableMissing(err: unknown): boolean {
  return /TABLE_OR_VIEW_NOT_FOUND|DELTA_TABLE_NOT_FOUND|Table or view not found/i.test(`${(err as Error)?.message ?? ''}`);
}

/** Another writer created the table at the same moment (Delta's messages for the race on Spark and Databricks). */
export function isCreateRace(err: unknown): boolean {
  return /DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION|DELTA_PROTOCOL_CHANGED|TABLE_OR_VIEW_ALREADY_EXISTS|TableAlreadyExistsException/.test(`${(err as Error)?.message ?? ''}`);
}
