// Where the machine's cores went during a measurement: CPU time per component (from /proc/<pid>/stat, own and
// reaped children's) and the machine's idle share (/proc/stat) between two moments. On a 2-core machine shared by Postgres,
// Kafka, the registry and the measured process, this says whether a process could have gone faster at all.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Command-line fragment → component; the first match wins. */
const COMPONENTS: [RegExp, string][] = [
  [/cli\/tracelake\.ts connector/, 'ours'],
  [/pg_recvlogical/, 'pg_recvlogical'],
  [/ConnectDistributed|connect-distributed/, 'Debezium (Kafka Connect)'],
  [/^postgres|\/postgres /, 'Postgres'],
  [/kafka\.Kafka/, 'Kafka'],
  [/quarkus|apicurio/i, 'registry'],
];

interface Sample { at: number; perPid: Map<string, { ticks: number; component: string }>; busy: number; total: number }

function sample(extra: Array<[RegExp, string]> = []): Sample {
  const components = [...extra, ...COMPONENTS];
  const perPid = new Map<string, { ticks: number; component: string }>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const component = components.find(([re]) => re.test(cmd))?.[1];
      // utime + stime, plus cutime + cstime: a Postgres backend that exits within the window (a snapshot reader)
      // is counted through the postmaster that reaped it
      if (component) perPid.set(pid, { ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]), component });
    } catch { /* exited meanwhile */ }
  }
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { at: performance.now(), perPid, busy: total - cpu[3]! - cpu[4]!, total };
}

export interface CpuShare {
  seconds: number;
  /** component → share of one core over the window, in % */
  components: Record<string, number>;
  /** the machine's busy share, in % of all its cores */
  busyPercent: number;
}

/**
 * Starts a window now; the returned function ends it (call it before the measured processes exit). `extra`:
 * more command-line fragment → component pairs, matched before the built-in ones.
 */
export function cpuWindow(extra: Array<[RegExp, string]> = []): () => CpuShare {
  const a = sample(extra);
  return () => {
    const b = sample(extra);
    const seconds = (b.at - a.at) / 1000;
    const components: Record<string, number> = {};
    for (const [pid, { ticks, component }] of b.perPid) {
      const used = ticks - (a.perPid.get(pid)?.ticks ?? 0);
      if (used > 0) components[component] = (components[component] ?? 0) + used;
    }
    for (const c of Object.keys(components)) components[c] = Math.round((components[c]! / TICKS_PER_SECOND / seconds) * 100);
    return { seconds, components, busyPercent: Math.round(((b.busy - a.busy) / (b.total - a.total)) * 100) };
  };
}

export function formatCpu(s: CpuShare): string {
  const parts = Object.entries(s.components).sort((x, y) => y[1] - x[1]).map(([c, p]) => `${c} ${p}%`);
  return `${parts.join(', ')} of one core; machine ${s.busyPercent}% busy`;
}
