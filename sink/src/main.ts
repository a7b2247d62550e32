// tracelake sink: Kafka change events → Delta tables through a Databricks SQL warehouse.
import { parseSinkConfig } from './config.ts';
import { Sink } from './sink.ts';
import { serviceMain } from '../../runtime/process.ts';

await serviceMain({
  component: 'sink',
  usage: `usage: node sink/src/main.ts --config <sink.json>

Consumes tracelake change topics and MERGEs them into Delta tables.
  -c, --config   JSON configuration file
  -h, --help     this text
Environment: TRACELAKE_WAREHOUSE_TOKEN overrides warehouse.token; TRACELAKE_LOG_LEVEL (info).
`,
  fromEnv: (raw) => {
    if (process.env.TRACELAKE_WAREHOUSE_TOKEN && raw.warehouse) raw.warehouse.token = process.env.TRACELAKE_WAREHOUSE_TOKEN;
  },
  parse: parseSinkConfig,
  create: (config, log) => new Sink(config, log),
});
