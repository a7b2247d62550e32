// Prometheus metrics (prom-client, the kept Node client): one registry per process with the process
// metrics (tracelake_process_*, tracelake_nodejs_*) and the pipeline state as kafka_connect_connector_status
// shows it — one series per state, 1 for the current one.
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { PipelineState } from './supervisor.ts';

const STATES: PipelineState[] = ['UNASSIGNED', 'RUNNING', 'PAUSED', 'STOPPED', 'FAILED', 'RESTARTING'];

export interface ServiceMetrics {
  registry: Registry;
  setState(state: PipelineState): void;
  /** run before each scrape: one reading of what lives outside the process (the slot, the consumer group) */
  beforeScrape: Array<() => Promise<void>>;
}

export function serviceMetrics(component: 'connector' | 'sink'): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tracelake_' });
  const state = new Gauge({
    name: `tracelake_${component}_state`, help: 'pipeline state: 1 for the current state, 0 for the others',
    labelNames: ['state'], registers: [registry],
  });
  const setState = (s: PipelineState) => {
    for (const x of STATES) state.set({ state: x }, x === s ? 1 : 0);
  };
  setState('UNASSIGNED');
  return { registry, setState, beforeScrape: [] };
}
