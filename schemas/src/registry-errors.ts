// How tracelake tells schema registry failures apart (one classifier for the registry, unit-tested): which
// requests are worth sending again, the typed error a failed request becomes, and whether an error means the
// registry was unavailable (not the record's fault).
import { TracelakeError } from './errors.ts';

/** No answer (timeout, connection lost) or an answer that says "later": worth sending again. */
export function retriableRequest(err: unknown): boolean {
  const e = err as { status?: number; isAxiosError?: boolean; response?: unknown };
  if (typeof e.status === 'number' && e.status > 0) return e.status === 408 || e.status === 429 || e.status >= 500;
  return e.isAxiosError === true && !e.response; // timed out, refused, reset: no HTTP answer at all
}

export function registryError(err: unknown, what: string): TracelakeError {
  const status = (err as { status?: number }).status;
  const message = (err as Error).message ?? String(err);
  if (status === 409) {
    return new TracelakeError(`schema change for ${what} is incompatible with the registered versions: ${message}`, {
      code: 'INCOMPATIBLE_SCHEMA', cause: err,
      remedy: 'the column change cannot be read by consumers of earlier versions (e.g. a type narrowing); revert it, or move the table to a new topic prefix and re-snapshot',
    });
  }
  if (status === 404) {
    return new TracelakeError(`schema registry has no ${what}: ${message}`, {
      code: 'SCHEMA_NOT_FOUND', cause: err, remedy: 'the registry lost schemas or the topic was written elsewhere; check the registry storage',
    });
  }
  return new TracelakeError(`schema registry request for ${what} failed: ${message}`, {
    code: 'REGISTRY_UNAVAILABLE', retriable: true, cause: err, remedy: 'check that the schema registry is reachable (registry.url) and answers within registry.requestTimeoutMs',
  });
}

/** A request found no registry answer within its retries: not the record's fault, worth trying again later. */
export function registryUnavailable(err: unknown): boolean {
  return err instanceof TracelakeError && err.code === 'REGISTRY_UNAVAILABLE';
}
