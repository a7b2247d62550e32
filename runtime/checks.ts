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
