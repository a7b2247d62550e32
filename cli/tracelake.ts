// tracelake — one command line for both services and their operation:
//   tracelake connector|sink --config <file>      run a service (REST, /metrics, health on http.port)
//   tracelake validate connector|sink --config f  check a configuration and everything it points at
//   tracelake status|pause|resume|stop|restart|offsets|snapshot --url …   drive a running service
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { connectorConfigSchema, parseConnectorConfig } from '../connector/src/config.ts';
import { parseSinkConfig, sinkConfigSchema } from '../sink/src/config.ts';
import { loadRawConfig } from '../runtime/config/load.ts';
import { formatChecks } from '../runtime/checks.ts';
import { createLogger } from '../runtime/process.ts';
import { hostService, VERSION } from '../runtime/service-host.ts';
import { configReference } from './config-reference.ts';
import { remote, REMOTE_COMMANDS } from './remote.ts';

const HELP = `tracelake ${VERSION} — change-data-capture from Phoenix / Langfuse Postgres into Delta

usage: tracelake <command> [options]

services
  connector --config <file>   stream Postgres changes into Kafka (REST on http.port, default 8083)
  sink --config <file>        MERGE change topics into Delta tables (REST on http.port, default 8084)

checks
  validate connector|sink --config <file> [--offline]
                              validate the configuration, then check Postgres / object storage / Kafka / registry /
                              warehouse as the service would use them; exit 0 when everything passes
  config connector|sink       print every configuration field with its default and meaning

operating a running service (Kafka Connect's verbs; --url defaults to http://127.0.0.1:8083)
  status                      state (RUNNING, PAUSED, STOPPED, FAILED + trace), phase and tables
  pause | resume | stop | restart
  offsets [--reset]           slot LSNs (connector) or consumer-group offsets (sink); --reset forgets
                              them (only while STOPPED: the connector re-snapshots, the sink re-reads)
  snapshot <schema.table>     connector: re-read one table while streaming goes on

options
  -c, --config <file>   JSON configuration; strings may hold \${env:NAME} and \${file:/path}
  --url <url>           REST address of a running service
  --token <token>       bearer token (http.token) for the mutating calls; or TRACELAKE_TOKEN
  -h, --help            this text (also after a command: tracelake connector --help)

environment
  TRACELAKE__SECTION__FIELD=value   override any field (e.g. TRACELAKE__SOURCE__SLOT__NAME=s1;
                                    JSON for numbers, booleans and arrays)
  TRACELAKE_SOURCE_URL, TRACELAKE_WAREHOUSE_TOKEN   shortcuts for source.url / warehouse.token
  TRACELAKE_LOG_LEVEL               trace|debug|info|warn|error (info); logs are JSON lines on stdout
`;

const COMMAND_HELP: Record<string, string> = {
  connector: `usage: tracelake connector --config <connector.json>

Snapshots, then streams the configured Postgres tables into Kafka as Avro change events. Serves the
REST API, /healthz, /readyz and /metrics on http.host:http.port (default 0.0.0.0:8083). SIGTERM drains:
what was received is sent to Kafka and confirmed to the slot, then the process exits 0.
Fields: tracelake config connector (or docs/configuration.md).
`,
  sink: `usage: tracelake sink --config <sink.json>

Consumes the change topics and MERGEs micro-batches into Delta tables; offsets are committed after the
MERGE. Serves the REST API, /healthz, /readyz and /metrics on http.host:http.port (default 0.0.0.0:8084).
SIGTERM drains: the buffered batch is merged and committed (or left for replay), then exit 0.
Fields: tracelake config sink (or docs/configuration.md).
`,
  validate: `usage: tracelake validate connector|sink --config <file> [--offline]

Validates the configuration (every problem with its field, the value found and the fix), then, unless
--offline, checks what it points at: Postgres (reachable, wal_level, REPLICATION, SELECT and a key on
each table, publication, slot), Kafka, the schema registry, the warehouse. Exit 0 when all pass, 1 if not.
`,
  config: `usage: tracelake config connector|sink

Prints every configuration field with its type, default and meaning.
`,
};

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      config: { type: 'string', short: 'c' }, url: { type: 'string' }, token: { type: 'string' },
      reset: { type: 'boolean' }, offline: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (!command) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  if (values.help) {
    process.stdout.write(COMMAND_HELP[command] ?? (REMOTE_COMMANDS.includes(command) ? HELP : `unknown command ${command}\n\n${HELP}`));
    return 0;
  }
  switch (command) {
    case 'connector':
    case 'sink':
      return runService(command, requireConfig(values.config, command));
    case 'validate':
      return validate(rest[0], requireConfig(values.config, 'validate'), !!values.offline);
    case 'config':
      if (rest[0] !== 'connector' && rest[0] !== 'sink') return usage('config needs connector or sink');
      process.stdout.write(configReference(rest[0] === 'connector' ? connectorConfigSchema : sinkConfigSchema));
      return 0;
    default:
      if (REMOTE_COMMANDS.includes(command)) {
        return remote(command, rest, { url: values.url ?? 'http://127.0.0.1:8083', token: values.token ?? process.env.TRACELAKE_TOKEN, reset: !!values.reset });
      }
      return usage(`unknown command ${command}`);
  }
}

function usage(message: string): number {
  process.stderr.write(`tracelake: ${message}\n\n${HELP}`);
  return 2;
}

function requireConfig(file: string | undefined, command: string): string {
  if (!file) {
    process.stderr.write(`tracelake ${command}: --config <file> is required\n\n${COMMAND_HELP[command] ?? HELP}`);
    process.exit(2);
  }
  return file;
}

/** Config file → overrides → references → validated config; exits 2 with every problem listed. */
function loadConfig<T>(kind: 'connector' | 'sink', file: string): T {
  const schema: z.ZodType = kind === 'connector' ? connectorConfigSchema : sinkConfigSchema;
  if (kind === 'connector' && process.env.TRACELAKE_SOURCE_URL) process.env.TRACELAKE__SOURCE__URL ??= process.env.TRACELAKE_SOURCE_URL;
  if (kind === 'sink' && process.env.TRACELAKE_WAREHOUSE_TOKEN) process.env.TRACELAKE__WAREHOUSE__TOKEN ??= process.env.TRACELAKE_WAREHOUSE_TOKEN;
  try {
    const raw = loadRawConfig(file, schema);
    return (kind === 'connector' ? parseConnectorConfig(raw) : parseSinkConfig(raw)) as T;
  } catch (err) {
    const e = err as Error & { remedy?: string };
    process.stderr.write(`tracelake: ${e.message}${e.remedy ? `\n  fix: ${e.remedy}` : ''}\n`);
    process.exit(2);
  }
}

// A service's modules are loaded only for the command that runs it: the connector never loads the sink's
// Databricks driver, nor the sink the connector's sources (a smaller heap to mark, a faster start).
async function runService(kind: 'connector' | 'sink', file: string): Promise<number> {
  const log = createLogger(kind);
  if (kind === 'connector') {
    const { connectorService } = await import('../connector/src/service.ts');
    return hostService(connectorService(loadConfig(kind, file), log), log);
  }
  const { sinkService } = await import('../sink/src/service.ts');
  return hostService(sinkService(loadConfig(kind, file), log), log);
}

async function validate(kind: string | undefined, file: string, offline: boolean): Promise<number> {
  if (kind !== 'connector' && kind !== 'sink') return usage('validate needs connector or sink');
  const cfg = loadConfig<never>(kind, file);
  process.stdout.write(`ok    configuration ${file}\n`);
  if (offline) return 0;
  const results = kind === 'connector'
    ? await (await import('../connector/src/preflight.ts')).connectorChecks(cfg)
    : await (await import('../sink/src/preflight.ts')).sinkChecks(cfg);
  process.stdout.write(`${formatChecks(results)}\n`);
  const failed = results.filter((r) => !r.ok && !r.skipped).length;
  const skipped = results.filter((r) => r.skipped).length;
  process.stdout.write(failed === 0 ? `all ${results.length} checks passed\n` : `${failed} of ${results.length} checks failed${skipped ? `, ${skipped} not run` : ''}\n`);
  return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: Error & { code?: string }) => {
  process.stderr.write(`tracelake: ${err.message}\n`);
  process.exit(err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? 2 : 1);
});
