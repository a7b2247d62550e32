// tracelake connector: Postgres logical replication → Kafka.
import { parseConnectorConfig } from './config.ts';
import { Connector } from './connector.ts';
import { createLogger, readConfigArg, runService } from '../../runtime/process.ts';

const USAGE = `usage: node connector/src/main.ts --config <connector.json>

Streams the configured Postgres tables into Kafka as Avro change events.
  -c, --config   JSON configuration file (see docs/configuration.md)
  -h, --help     this text
Environment: TRACELAKE_SOURCE_URL overrides source.url; TRACELAKE_LOG_LEVEL (info).
`;

const raw = readConfigArg(USAGE) as { source?: { url?: string } };
if (process.env.TRACELAKE_SOURCE_URL && raw.source) raw.source.url = process.env.TRACELAKE_SOURCE_URL;
const log = createLogger('connector');
let config;
try {
  config = parseConnectorConfig(raw);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
await runService(log, new Connector(config, log));
