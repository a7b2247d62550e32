import { Admin } from '@platformatic/kafka';
import { TracelakeError } from '../schemas/src/errors.ts';
import { kafkaOptions, type KafkaConnection } from './kafka.ts';

// Pre-flight checks (`tracelake validate`, PUT /config/validate?checks=true): each check says what it
// looked at, whether it passed, and the fix when it did not. A check that throws fails with its message;
// one that hangs fails after its timeout.
export interface CheckResult {
  check: string;
  ok: boolean;
  /** not run because a check it depends on failed */
  skipped?: boolean;
  detail: string;
  remedy?: string;
}

export interface Check {
  name: string;
  /** resolves with a detail line when the check passes; throws (a TracelakeError names the remedy) when not */
  run(): Promise<string>;
}

export async function runChecks(checks: Check[], timeoutMs = 15_000): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of checks) {
    let timer: NodeJS.Timeout | undefined;
    try {
      const detail = await Promise.race([
        c.run(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs))),
      ]);
      out.push({ check: c.name, ok: true, detail });
    } catch (err) {
      const e = err as Error & { remedy?: string; code?: string };
      if (e.code === 'SKIPPED') out.push({ check: c.name, ok: false, skipped: true, detail: e.message });
      else out.push({ check: c.name, ok: false, detail: e.message, ...(e.remedy ? { remedy: e.remedy } : {}) });
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

/** Text for a terminal: one line per check. */
export function formatChecks(results: CheckResult[]): string {
  return results.map((r) => `${r.ok ? 'ok  ' : r.skipped ? 'skip' : 'FAIL'}  ${r.check}: ${r.detail}${r.remedy ? `\n        fix: ${r.remedy}` : ''}`).join('\n');
}

/**
 * Runs `fn` with a short-timeout admin client; a broker that does not answer becomes KAFKA_UNREACHABLE
 * (errors `fn` raises itself as TracelakeErrors pass through).
 */
export async function withKafkaAdmin<T>(k: KafkaConnection, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ ...kafkaOptions(k, 'tracelake-validate'), connectTimeout: 5000, timeout: 5000, retries: 1 });
  try {
    return await fn(admin);
  } catch (err) {
    if (err instanceof TracelakeError) throw err;
    throw new TracelakeError(`cannot reach Kafka at ${k.brokers.join(',')}: ${(err as Error).message}`, {
      code: 'KAFKA_UNREACHABLE', remedy: 'check kafka.brokers (and kafka.ssl / kafka.sasl) and the network path to them',
    });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** The schema registry answers the Confluent API (GET /subjects). */
export async function registryCheck(url: string): Promise<string> {
  const res = await fetch(`${url.replace(/\/$/, '')}/subjects`, { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
    throw new TracelakeError(`cannot reach the schema registry at ${url}: ${err.cause ? String((err.cause as Error).message ?? err.cause) : err.message}`, {
      code: 'REGISTRY_UNREACHABLE', remedy: 'check registry.url (for Apicurio: …/apis/ccompat/v7)',
    });
  });
  if (!res.ok) {
    throw new TracelakeError(`the schema registry at ${url} answered ${res.status} to GET /subjects`, {
      code: 'REGISTRY_API', remedy: 'registry.url must point at a Confluent-compatible API',
    });
  }
  return `${((await res.json()) as unknown[]).length} subject(s)`;
}
