// What both services' entry points share: reading the config file, the logger, and signal handling.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino, { type Logger } from 'pino';

/** Paths whose values are never logged. */
const REDACT = ['*.token', '*.password', '*.url', 'token', 'password', 'url', 'config.source.url', 'config.warehouse.token'];

export function createLogger(component: string): Logger {
  return pino({
    base: { component },
    level: process.env.TRACELAKE_LOG_LEVEL ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
  });
}

/** Parses `--config <file.json>` and returns the file's JSON. */
export function readConfigArg(usage: string): unknown {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help || !values.config) {
    process.stderr.write(usage);
    process.exit(values.help ? 0 : 2);
  }
  try {
    return JSON.parse(readFileSync(values.config, 'utf8'));
  } catch (err) {
    process.stderr.write(`cannot read config file ${values.config}: ${(err as Error).message}\n`);
    process.exit(2);
  }
}

/** Runs `service` until it ends; SIGTERM/SIGINT stop it gracefully. Exit 0 on a clean stop, 1 on failure. */
export async function runService(log: Logger, service: { run(): Promise<void>; stop(): Promise<void> }): Promise<void> {
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal: sig }, 'stopping');
      void service.stop();
    });
  }
  try {
    await service.run();
    log.info('stopped');
    process.exit(0);
  } catch (err) {
    const e = err as { code?: string; remedy?: string; message?: string };
    process.stderr.write(`tracelake: ${e.message}${e.code ? ` [${e.code}]` : ''}${e.remedy ? `\n  fix: ${e.remedy}` : ''}\n`);
    process.exit(1);
  }
}

export interface ServiceEntry<C> {
  component: string;
  usage: string;
  /** applies environment overrides (secrets) to the raw config */
  fromEnv: (raw: Record<string, Record<string, unknown> | undefined>) => void;
  parse: (raw: unknown) => C;
  create: (config: C, log: Logger) => { run(): Promise<void>; stop(): Promise<void> };
}

/** A service's entry point: config file + environment → validated config → run until signalled. */
export async function serviceMain<C>(entry: ServiceEntry<C>): Promise<void> {
  const raw = readConfigArg(entry.usage) as Record<string, Record<string, unknown> | undefined>;
  entry.fromEnv(raw);
  const log = createLogger(entry.component);
  let config: C;
  try {
    config = entry.parse(raw);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  await runService(log, entry.create(config, log));
}
