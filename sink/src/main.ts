// tracelake sink: Kafka change events → Delta tables through a Databricks SQL warehouse.
import { parseSinkConfig } from './config.ts';
import { Sink } from './sink.ts';
import { createLogger, readConfigArg, runService } from '../../runtime/process.ts';

const USAGE = `usage: node sink/src/main.ts --config <sink.json>

Consumes tracelake change topics and MERGEs them into Delta tables.
  -c, --config   JSON configuration file (see docs/configuration.md)
  -h, --help     this text
Environment: TRACELAKE_WAREHOUSE_TOKEN overrides warehouse.token; TRACELAKE_LOG_LEVEL (info).
`;

const raw = readConfigArg(USAGE) as { warehouse?: { token?: string } };
if (process.env.TRACELAKE_WAREHOUSE_TOKEN && raw.warehouse) raw.warehouse.token = process.env.TRACELAKE_WAREHOUSE_TOKEN;
const log = createLogger('sink');
let config;
try {
  config = parseSinkConfig(raw);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
await runService(log, new Sink(config, log));
