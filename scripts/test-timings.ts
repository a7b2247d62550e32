// A reporter for Node's test runner (make test uses it beside the spec reporter): it collects the duration of
// every top-level test and, at the end, writes the slowest ten — name, file and seconds — so the cost of the
// suite stays visible. Timed-out tests are listed too (they fail at the runner's --test-timeout).
import { relative } from 'node:path';

interface TestEvent {
  type: string;
  data: { name: string; nesting: number; file?: string; details?: { duration_ms?: number } };
}

export default async function* slowestTests(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const done: Array<{ name: string; file: string; ms: number; failed: boolean }> = [];
  for await (const { type, data } of source) {
    if ((type !== 'test:pass' && type !== 'test:fail') || data.nesting !== 0 || !data.file) continue;
    done.push({ name: data.name, file: relative(process.cwd(), data.file), ms: data.details?.duration_ms ?? 0, failed: type === 'test:fail' });
  }
  const slowest = done.sort((a, b) => b.ms - a.ms).slice(0, 10);
  if (slowest.length === 0) return;
  yield `slowest ${slowest.length} tests:\n`;
  for (const t of slowest) yield `${(t.ms / 1000).toFixed(1).padStart(7)} s  ${t.failed ? '✖ ' : ''}${t.file} — ${t.name}\n`;
}
