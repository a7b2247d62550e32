// The running local stack's endpoints (shared with scripts/demo.ts), and its on-demand services.
import { execFileSync } from 'node:child_process';

export { stack, stackHome, uniqueName, type StackEnv } from '../../scripts/stack/stack-env.ts';


const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * Starts an on-demand service of the stack (scripts/stack/<name>.sh up: ClickHouse, SeaweedFS) if it is not
 * running, and returns a reader of what its `env` command prints (KEY=value lines).
 */
export function onDemandService(name: string): (key: string) => string {
  const script = `${ROOT}scripts/stack/${name}.sh`;
  execFileSync(script, ['up'], { stdio: 'inherit' });
  const env = Object.fromEntries(execFileSync(script, ['env'], { encoding: 'utf8' })
    .split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return (key) => {
    const v = env[key];
    if (v === undefined) throw new Error(`scripts/stack/${name}.sh env printed no ${key}`);
    return v;
  };
}
