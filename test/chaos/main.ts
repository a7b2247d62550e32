// `make chaos [SEED=n FAULTS=n]`: the long fault-injection run (≥ 20 faults by default). Exit 0 only when
// every mirrored table equals Postgres, the slot caught up and no process leaked.
import { formatSummary, passed, runChaos } from './chaos.ts';

const seed = Number(process.env.SEED || Math.floor(Math.random() * 2 ** 31));
const faults = Number(process.env.FAULTS || 24);
const summary = await runChaos({ seed, faults, gapMs: [4000, 12_000], seedRows: 400, log: (l) => console.log(l) });
console.log(formatSummary(summary));
process.exit(passed(summary) ? 0 : 1);
