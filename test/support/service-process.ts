// The services as real OS processes (their CLIs), for crash tests: kill -9, fault points, restarts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  waitForLog(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export function spawnService(kind: 'connector' | 'sink', config: object, env: Record<string, string> = {}): ServiceProcess {
  const dir = mkdtempSync(`${tmpdir()}/tracelake-${kind}-`);
  writeFileSync(`${dir}/config.json`, JSON.stringify(config));
  const child = spawn(process.execPath, [`${ROOT}${kind}/src/main.ts`, '--config', `${dir}/config.json`], {
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
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
