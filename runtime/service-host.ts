// One service process: the supervised pipeline, its REST API (Kafka Connect's verbs and states), health
// checks and /metrics, and signal handling. The connector and the sink each describe themselves as a
// HostedService; everything operational they share lives here.
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { RestServer, HttpError, type Route } from './rest/server.ts';
import { ConflictError, Supervisor, type Worker } from './supervisor.ts';
import type { ServiceMetrics } from './metrics.ts';
import type { CheckResult } from './checks.ts';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface ValidationReport {
  valid: boolean;
  errors: Array<{ field: string; message: string }>;
  checks: CheckResult[];
}

export interface HostedService<W extends Worker> {
  component: 'connector' | 'sink';
  type: 'source' | 'sink';
  http: { host: string; port: number; token?: string | undefined };
  lifecycle: { state: 'running' | 'paused' | 'stopped'; failurePolicy: 'stay' | 'exit' };
  metrics: ServiceMetrics;
  createWorker(): W;
  /** positions: the slot's LSNs, or the consumer group's offsets */
  offsets(): Promise<unknown>;
  /** only while STOPPED; `change` undefined resets everything (DELETE), else applies it (PATCH) */
  resetOffsets(change: unknown): Promise<unknown>;
  validate(raw: unknown, withChecks: boolean): Promise<ValidationReport>;
  routes?(supervisor: Supervisor<W>): Route[];
}

/** Runs the service until SIGTERM/SIGINT (exit code 0), or failure with failurePolicy exit (1). */
export async function hostService<W extends Worker>(svc: HostedService<W>, log: Logger): Promise<number> {
  const sup = new Supervisor(() => svc.createWorker(), log, {
    initial: svc.lifecycle.state, failurePolicy: svc.lifecycle.failurePolicy, onState: (s) => svc.metrics.setState(s),
  });
  let workerId = `${hostname()}:${svc.http.port}`;
  const status = () => {
    const trace = sup.trace();
    return {
      name: `tracelake-${svc.component}`, type: svc.type,
      connector: { state: sup.state, worker_id: workerId, ...(trace ? { trace } : {}) },
      phase: sup.state === 'RUNNING' || sup.state === 'PAUSED' ? sup.worker?.phase() : undefined,
      since: sup.since.toISOString(),
      tables: sup.worker?.tables() ?? [],
    };
  };
  const accepted = async (op: () => Promise<void>) => {
    await op();
    return { status: 202, json: status() };
  };
  const whileStopped = (what: string) => {
    if (sup.state !== 'STOPPED') throw new ConflictError(`${what} needs the pipeline STOPPED; it is ${sup.state}`, 'PUT /stop first (and stop every other instance of this pipeline)');
  };
  const routes: Route[] = [
    { method: 'GET', path: '/', handle: () => ({ json: { service: `tracelake-${svc.component}`, version: VERSION } }) },
    { method: 'GET', path: '/healthz', handle: () => ({ json: { status: 'UP' } }) },
    {
      method: 'GET', path: '/readyz',
      handle: () => (sup.state === 'FAILED' || sup.state === 'UNASSIGNED'
        ? { status: 503, json: { status: 'DOWN', state: sup.state } }
        : { json: { status: 'UP', state: sup.state } }),
    },
    {
      method: 'GET', path: '/metrics',
      handle: async () => {
        await Promise.all(svc.metrics.beforeScrape.map((refresh) => refresh().catch(() => undefined)));
        return { text: await svc.metrics.registry.metrics(), contentType: svc.metrics.registry.contentType };
      },
    },
    { method: 'GET', path: '/status', handle: () => ({ json: status() }) },
    { method: 'PUT', path: '/pause', handle: () => accepted(() => sup.pause()) },
    { method: 'PUT', path: '/resume', handle: () => accepted(() => sup.resume()) },
    { method: 'PUT', path: '/stop', handle: () => accepted(() => sup.stop()) },
    { method: 'POST', path: '/restart', handle: () => accepted(() => sup.restart()) },
    { method: 'GET', path: '/offsets', handle: async () => ({ json: await svc.offsets() }) },
    {
      method: 'DELETE', path: '/offsets',
      handle: async () => {
        whileStopped('resetting offsets');
        return { json: await svc.resetOffsets(undefined) };
      },
    },
    {
      method: 'PATCH', path: '/offsets',
      handle: async ({ body }) => {
        whileStopped('changing offsets');
        if (body === undefined) throw new HttpError(400, 'send the offsets to set as a JSON body (GET /offsets shows the shape)');
        return { json: await svc.resetOffsets(body) };
      },
    },
    {
      method: 'PUT', path: '/config/validate',
      handle: async ({ body, query }) => {
        if (body === undefined) throw new HttpError(400, 'send a configuration as the JSON body');
        return { json: await svc.validate(body, query.get('checks') === 'true') };
      },
    },
    ...(svc.routes?.(sup) ?? []),
  ];
  const rest = new RestServer(routes, { ...svc.http, log });
  let port: number;
  try {
    port = await rest.listen();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    log.error({ err: e.message, host: svc.http.host, port: svc.http.port }, 'cannot open the REST port');
    process.stderr.write(`tracelake: cannot listen on ${svc.http.host}:${svc.http.port} (${e.code ?? e.message})\n  fix: free the port or set http.port (0 = any free port)\n`);
    return 2;
  }
  workerId = `${hostname()}:${port}`;
  log.info({ host: svc.http.host, port }, 'REST API listening');
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'stopping: draining what is in hand');
    void sup.shutdown();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  sup.start();
  const code = await sup.exited;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  await rest.close();
  if (code !== 0 && sup.failure) {
    const e = sup.failure as Error & { code?: string; remedy?: string };
    process.stderr.write(`tracelake: ${e.message}${e.code ? ` [${e.code}]` : ''}${e.remedy ? `\n  fix: ${e.remedy}` : ''}\n`);
  }
  log.info({ code }, 'exiting');
  return code;
}
