// Reading Prometheus text and the metric names documented in docs/operations.md.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withAdmin } from './kafka.ts';
import { topicRanges } from '../../runtime/kafka-offsets.ts';
export { until } from './wait.ts';

const DOC = fileURLToPath(new URL('../../docs/operations.md', import.meta.url));

/** Metric names listed in docs/operations.md for a component (rows like | `tracelake_sink_…` | …). */
export function documentedMetrics(component: 'connector' | 'sink'): string[] {
  const names = [...readFileSync(DOC, 'utf8').matchAll(/^\| `(tracelake_[a-z_]+)`/gm)].map((m) => m[1]!);
  return names.filter((n) => n.startsWith(`tracelake_${component}_`));
}

/** The value of one series in Prometheus text, e.g. value(text, 'x_total{op="c"}'). */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Messages in a topic (sum of high watermarks; our topics are never trimmed in tests). */
export async function topicSize(topic: string): Promise<number> {
  return withAdmin(async (admin) => {
    if (!(await admin.listTopics()).includes(topic)) return 0;
    return ((await topicRanges(admin, [topic])).get(topic) ?? []).reduce((n, p) => n + Number(p.high), 0);
  });
}
