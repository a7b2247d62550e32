// tracelake connector: Postgres logical replication → Kafka.
import { parseConnectorConfig } from './config.ts';
import { Connector } from './connector.ts';
import { serviceMain } from '../../runtime/process.ts';

await serviceMain({
  component: 'connector',
  usage: `usage: node connector/src/main.ts --config <connector.json>

Streams the configured Postgres tables into Kafka as Avro change events.
  -c, --config   JSON configuration file
  -h, --help     this text
Environment: TRACELAKE_SOURCE_URL overrides source.url; TRACELAKE_LOG_LEVEL (info).
`,
  fromEnv: (raw) => {
    if (process.env.TRACELAKE_SOURCE_URL && raw.source) raw.source.url = process.env.TRACELAKE_SOURCE_URL;
  },
  parse: parseConnectorConfig,
  create: (config, log) => new Connector(config, log),
});
