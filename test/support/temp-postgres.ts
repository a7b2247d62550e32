// A throw-away PostgreSQL server for the cases the shared stack cannot show: another wal_level, a tiny
// max_slot_wal_keep_size. Same Debian binaries as the stack, its own data directory and port, stopped
// (and deleted) by the test.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';

export interface TempPostgres {
  url: string;
  stop(): void;
}

const bin = () => execFileSync('bash', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1'], { encoding: 'utf8' }).trim();
const asPg = (cmd: string[]) => (process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', ...cmd]] as const : [cmd[0]!, cmd.slice(1)] as const);

function run(cmd: string[]): void {
  const [file, args] = asPg(cmd);
  execFileSync(file, [...args], { stdio: 'pipe' });
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function tempPostgres(settings: Record<string, string>): Promise<TempPostgres> {
  const dir = mkdtempSync(`${tmpdir()}/tl-pg-`);
  chmodSync(dir, 0o777);
  const data = `${dir}/data`;
  const port = await freePort();
  const b = bin();
  run([`${b}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8']);
  const opts = [`-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
  run([`${b}/pg_ctl`, '-D', data, '-l', `${dir}/log`, '-w', '-t', '60', 'start', '-o', opts]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        run([`${b}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
