// The services as real OS processes (their CLIs), for crash tests: kill -9, fault points, restarts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sleep } from './wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  waitForLog(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * SIGTERM, then SIGKILL if it has not exited within `graceMs` (by default the chart's grace: connector 60 s,
   * sink 120 s; a stop that hangs must not hang the test run); rejects in that case, naming the hang and the
   * process's last lines.
   */
  stop(graceMs?: number): Promise<void>;
  /** base URL of its REST API, once it listens */
  restUrl(): Promise<string>;
  /** a REST call; JSON answer (or text) with the status */
  call(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<{ status: number; body: any }>;
}

export function spawnService(kind: 'connector' | 'sink', config: object, env: Record<string, string> = {}): ServiceProcess {
  const dir = mkdtempSync(`${tmpdir()}/tracelake-${kind}-`);
  // a free REST port per process (tests run several), on loopback
  writeFileSync(`${dir}/config.json`, JSON.stringify({ http: { host: '127.0.0.1', port: 0 }, ...config }));
  const child = spawn(process.execPath, [`${ROOT}cli/tracelake.ts`, kind, '--config', `${dir}/config.json`], {
    env: { ...process.env, TRACELAKE_LOG_LEVEL: 'debug', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child, exited, output: () => out,
    async waitForLog(re, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      while (!re.test(out)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${kind} exited before logging ${re}:\n${out.slice(-2000)}`);
        if (Date.now() > end) throw new Error(`${kind} did not log ${re} in time:\n${out.slice(-2000)}`);
        await sleep(50);
      }
    },
    async restUrl() {
      await this.waitForLog(/"msg":"REST API listening"/);
      const port = /"port":(\d+),"msg":"REST API listening"/.exec(out)?.[1];
      return `http://127.0.0.1:${port}`;
    },
    async call(method, path, opts = {}) {
      const res = await fetch(`${await this.restUrl()}${path}`, {
        method, headers: { ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}), ...(opts.body ? { 'Content-Type': 'application/json' } : {}) },
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // text (metrics)
      }
      return { status: res.status, body };
    },
    // the grace the Helm chart gives each (terminationGracePeriodSeconds): a sink may finish a MERGE and leave a
    // rebalancing group first
    async stop(graceMs = kind === 'sink' ? 120_000 : 60_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const hung = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
      ]);
      clearTimeout(timer);
      if (!hung) return;
      child.kill('SIGKILL');
      await exited;
      throw new Error(`${kind} did not stop within ${graceMs} ms of SIGTERM (killed); its last lines:\n${out.split('\n').slice(-12).join('\n')}`);
    },
  };
}
