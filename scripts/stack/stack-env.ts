// Endpoints of the running local stack, as written by scripts/stack.sh into .cache/stack.env
// (used by the tests and by scripts/demo.ts).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface StackEnv {
  pgUrl: string;
  kafkaBrokers: string[];
  registryUrl: string;
  warehouse: { host: string; port: number; path: string; token: string; caCert: Buffer; caFile: string };
  /** the broker's TLS + SASL/PLAIN listener, and the CA every TLS endpoint of the stack is signed with */
  secure: { kafkaBrokers: string[]; saslUser: string; saslPassword: string; caFile: string };
}

let cached: StackEnv | undefined;

/** Where the stack keeps its state (TL_HOME, default .cache): its servers' data directories are under it. */
export function stackHome(): string {
  return process.env.TL_HOME ?? fileURLToPath(new URL('../../.cache', import.meta.url));
}

export function stack(): StackEnv {
  if (cached) return cached;
  const home = stackHome();
  let text: string;
  try {
    text = readFileSync(`${home}/stack.env`, 'utf8');
  } catch {
    throw new Error(`the local stack is not up (${home}/stack.env is missing): run 'make up'`);
  }
  const env = Object.fromEntries(
    text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string>;
  const get = (k: string): string => {
    const v = env[k];
    if (!v) throw new Error(`${home}/stack.env has no ${k}: run 'make up' again`);
    return v;
  };
  cached = {
    pgUrl: get('TL_PG_URL'),
    kafkaBrokers: get('TL_KAFKA_BROKERS').split(','),
    registryUrl: get('TL_REGISTRY_URL'),
    warehouse: {
      host: get('TL_WAREHOUSE_HOST'),
      port: Number(get('TL_WAREHOUSE_PORT')),
      path: get('TL_WAREHOUSE_PATH'),
      token: get('TL_WAREHOUSE_TOKEN'),
      caCert: readFileSync(get('TL_WAREHOUSE_CA_FILE')),
      caFile: get('TL_WAREHOUSE_CA_FILE'),
    },
    get secure() {
      return { kafkaBrokers: get('TL_KAFKA_SASL_SSL_BROKERS').split(','), saslUser: get('TL_KAFKA_SASL_USER'), saslPassword: get('TL_KAFKA_SASL_PASSWORD'), caFile: get('TL_TLS_CA_FILE') };
    },
  };
  return cached;
}

/** A name unique to this test run, for topics, slots, tables and subjects. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}`;
}
