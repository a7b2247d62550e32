// deploy/docker/Dockerfile without a Docker engine (none on this machine): the image's steps replayed in a
// temporary directory, read from the Dockerfile itself — the production-only npm install of the deps stage,
// the final stage's COPY lines filtered by Dockerfile.dockerignore, its ENV, USER, WORKDIR and ENTRYPOINT —
// and the entry point run there as the image's user on files it cannot write (as with a read-only root
// filesystem). What this cannot show: that the base image, `docker build` and the container runtime behave.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './tools.ts';

const dockerfile = readFileSync(`${ROOT}deploy/docker/Dockerfile`, 'utf8');
const ignore = readFileSync(`${ROOT}deploy/docker/Dockerfile.dockerignore`, 'utf8');

/** Dockerfile instructions (continuations joined, comments dropped), split into stages at FROM. */
function stages(text: string): Array<Array<{ op: string; args: string }>> {
  const lines = text.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const out: Array<Array<{ op: string; args: string }>> = [];
  for (const l of lines) {
    const [op, ...rest] = l.split(/\s+/);
    if (op!.toUpperCase() === 'FROM') out.push([]);
    out.at(-1)?.push({ op: op!.toUpperCase(), args: rest.join(' ') });
  }
  return out;
}

/** .dockerignore semantics used here: globs on the path or a parent path, `!` re-includes, the last match wins. */
function ignored(path: string): boolean {
  let result = false;
  for (let p of ignore.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const negate = p.startsWith('!');
    if (negate) p = p.slice(1);
    const re = new RegExp(`^${p.replace(/\/$/, '').split('**/').map((s) => s.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('(.*/)?')}$`);
    const parts = path.split('/');
    if (parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')))) result = !negate;
  }
  return result;
}

function copyContext(src: string, dest: string) {
  for (const name of readdirSync(join(ROOT, src))) {
    const rel = join(src, name);
    if (ignored(rel)) continue;
    if (statSync(join(ROOT, rel)).isDirectory()) copyContext(rel, join(dest, name));
    else {
      mkdirSync(dest, { recursive: true });
      cpSync(join(ROOT, rel), join(dest, name));
    }
  }
}

const work = mkdtempSync(`${tmpdir()}/tracelake-image-`);
after(() => {
  spawnSync('chmod', ['-R', 'u+w', work]);
  rmSync(work, { recursive: true, force: true });
});

const [deps, final] = stages(dockerfile) as [Array<{ op: string; args: string }>, Array<{ op: string; args: string }>];
const hasCli = existsSync(`${ROOT}cli/tracelake.ts`);

test('the deps stage installs production dependencies only, at the lockfile\'s versions', () => {
  const dir = join(work, 'deps');
  mkdirSync(dir);
  for (const { op, args } of deps.filter((i) => i.op === 'COPY')) {
    const files = args.split(/\s+/).slice(0, -1);
    for (const f of files) {
      assert.ok(!ignored(f), `${f} is in the build context`);
      cpSync(join(ROOT, f), join(dir, f));
    }
    assert.equal(op, 'COPY');
  }
  const runs = deps.filter((i) => i.op === 'RUN').map((i) => i.args);
  assert.equal(runs.length, 1);
  // the same command, less the cache clean-up (it would empty this machine's shared npm cache)
  const install = runs[0]!.replace(/\s*&&\s*npm cache clean --force$/, '');
  assert.match(install, /^npm install --omit=dev /);
  const r = spawnSync('bash', ['-c', install], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'));
  for (const name of Object.keys(pkg.dependencies)) {
    const installed = JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8'));
    assert.equal(installed.version, pkg.dependencies[name], `${name} at the pinned version`);
  }
  // the lockfile marks what only the dev dependencies need ("dev": true): none of it is installed
  const lock = JSON.parse(readFileSync(`${ROOT}package-lock.json`, 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const devOnly = Object.entries(lock.packages).filter(([path, p]) => path && p.dev).map(([path]) => path);
  assert.ok(devOnly.includes('node_modules/typescript'));
  for (const path of devOnly) assert.ok(!existsSync(join(dir, path)), `${path} (dev only) is left out`);
  assert.equal(readFileSync(join(dir, 'package-lock.json'), 'utf8'), readFileSync(`${ROOT}package-lock.json`, 'utf8'), 'the lockfile is left alone');
});

const app = join(work, 'app');
let env: Record<string, string> = {};
let entry: string[] = [];

test('the final stage holds the sources the services need and nothing else', (t) => {
  for (const { op, args } of final) {
    if (op === 'WORKDIR') assert.equal(args, '/app');
    if (op === 'ENV') for (const m of args.matchAll(/(\w+)=(?:"([^"]*)"|(\S+))/g)) env[m[1]!] = m[2] ?? m[3]!;
    if (op === 'ENTRYPOINT') entry = JSON.parse(args);
    if (op === 'USER') assert.equal(args, '1000:1000', 'a numeric non-root user (runAsNonRoot can check it)');
    if (op !== 'COPY') continue;
    const fromDeps = args.match(/^--from=deps \/app\/(\S+) \.\/(\S+)$/);
    if (fromDeps) {
      mkdirSync(app, { recursive: true });
      renameSync(join(work, 'deps', fromDeps[1]!), join(app, fromDeps[2]!)); // a move: the deps stage is done with
      continue;
    }
    const [src, to] = args.split(/\s+/) as [string, string];
    const dest = to.endsWith('/') ? join(to, src) : to;
    if (src === 'cli' && !hasCli) {
      t.diagnostic('cli/ does not exist yet in this checkout: the image build would fail at COPY cli; the connector and sink entry points stand in');
      continue;
    }
    assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: it exists`);
    if (statSync(join(ROOT, src)).isDirectory()) copyContext(src, join(app, dest));
    else cpSync(join(ROOT, src), join(app, dest));
  }
  assert.deepEqual(entry, ['node', 'cli/tracelake.ts']);
  assert.deepEqual(env, { NODE_ENV: 'production', HOME: '/tmp', TMPDIR: '/tmp', TRACELAKE_LOG_LEVEL: 'info', NODE_OPTIONS: '--max-semi-space-size=8 --max-old-space-size=256', MALLOC_MMAP_THRESHOLD_: '131072' });
  const files = spawnSync('find', ['.', '-type', 'f', '-not', '-path', './node_modules/*'], { cwd: app, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  assert.ok(!files.some((f) => f.endsWith('.test.ts')), 'no test files');
  assert.ok(!files.some((f) => /^\.\/(test|bench|scripts|docs|deploy|\.cache|\.git)\//.test(f)), 'no tests, benchmarks, scripts, docs or caches');
});

/** Runs a command in the replayed image: cwd /app, the image's environment, files not writable, the image's user when we can switch. */
function inImage(args: string[]) {
  spawnSync('chmod', ['-R', 'a-w', app]);
  chmodSync(work, 0o755);
  const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=1000', '--regid=1000', '--clear-groups'] : [];
  const [cmd, ...rest] = [...asUser, process.execPath, ...args];
  return spawnSync(cmd!, rest, { cwd: app, encoding: 'utf8', env: { ...env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` } });
}

test('the entry point runs in the replayed image: --help, and a bad config refused after every module loaded', () => {
  // the simulation holds: the service user cannot write to the application's files, but can to /tmp
  const write = (path: string) => inImage(['-e', `require('fs').writeFileSync(${JSON.stringify(path)}, 'x')`]);
  assert.notEqual(write('/app-probe').status, 0);
  assert.match(write(join(app, 'probe')).stderr, /EACCES/);
  const tmpProbe = join(tmpdir(), `tracelake-image-probe-${process.pid}`);
  assert.equal(write(tmpProbe).status, 0);
  rmSync(tmpProbe, { force: true });
  const entries = hasCli ? [['cli/tracelake.ts', 'connector'], ['cli/tracelake.ts', 'sink']] : [['connector/src/main.ts'], ['sink/src/main.ts']];
  for (const e of entries) {
    const help = inImage([...e, '--help']);
    assert.equal(help.status, 0, `${e.join(' ')} --help: ${help.stderr}`);
    assert.match(help.stdout + help.stderr, /--config/);
  }
  const bad = join(work, 'bad.json');
  writeFileSync(bad, JSON.stringify({ source: {} }));
  chmodSync(bad, 0o644);
  for (const e of entries) {
    // static imports are all resolved before the config is read: a missing production dependency fails here
    const r = inImage([...e, '--config', bad]);
    assert.equal(r.status, 2, `${e.join(' ')} with a bad config: exit 2 (BAD_CONFIG), got ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /invalid (connector|sink) configuration/);
    assert.doesNotMatch(r.stderr, /EACCES|EROFS|ERR_MODULE_NOT_FOUND/);
  }
});
