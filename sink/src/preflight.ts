// What `tracelake validate sink` checks before anything runs: Kafka (and the change topics), the
// registry, the warehouse (a statement runs; the target schema is readable or creatable) and the
// dead-letter topic when errors are tolerated.
import type { SinkConfig } from './config.ts';
import { connectWarehouse } from './warehouse/databricks-client.ts';
import { warehouseOptions } from './warehouse/from-config.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { registryCheck, runChecks, withKafkaAdmin, type CheckResult } from '../../runtime/checks.ts';
import { changeTopicMatcher } from '../../schemas/src/envelope.ts';

const fail = (message: string, code: string, remedy: string) => new TracelakeError(message, { code, remedy });

export async function sinkChecks(cfg: SinkConfig): Promise<CheckResult[]> {
  const w = cfg.warehouse;
  return runChecks([
    {
      name: 'kafka: brokers and change topics',
      run: () => withKafkaAdmin(cfg.kafka, async (admin) => {
        const topics = await admin.listTopics();
        const change = topics.filter(changeTopicMatcher(cfg.kafka.topicPrefix));
        const where = `${change.length} change topic(s) under ${cfg.kafka.topicPrefix}.*`;
        if (cfg.errors.tolerance === 'all' && cfg.errors.deadLetterTopic && !topics.includes(cfg.errors.deadLetterTopic)) {
          return `${where}; dead-letter topic ${cfg.errors.deadLetterTopic} does not exist yet (created on first use if the broker allows auto-creation)`;
        }
        return `${where}${change.length === 0 ? ' (the sink waits for them)' : ''}`;
      }),
    },
    { name: 'schema registry', run: () => registryCheck(cfg.registry.url) },
    {
      name: 'warehouse: connect and query',
      run: async () => {
        const wh = await connectWarehouse(warehouseOptions(w, () => undefined)).catch((err: Error) => {
          throw fail(`cannot connect to the warehouse ${w.host}${w.path}: ${err.message}`, 'WAREHOUSE_UNREACHABLE',
            `check warehouse.host, warehouse.path and ${w.oauth ? 'warehouse.oauth (the service principal needs CAN USE on the warehouse)' : 'warehouse.token (a PAT with CAN USE on the warehouse)'}`);
        });
        try {
          await wh.query('SELECT 1').catch((err: Error) => {
            throw fail(`the warehouse does not run statements: ${err.message}`, 'WAREHOUSE_QUERY', 'check the token\'s permission on the warehouse and that it is started');
          });
          const schema = w.catalog ? `\`${w.catalog}\`.\`${w.schema}\`` : `\`${w.schema}\``;
          const exists = await wh.query(`SHOW TABLES IN ${schema}`).then((rows) => rows.length, () => -1);
          return exists >= 0 ? `schema ${schema} readable, ${exists} table(s)` : `schema ${schema} not readable yet: the sink creates it (needs CREATE SCHEMA${w.catalog ? ` on catalog ${w.catalog}` : ''})`;
        } finally {
          await wh.close().catch(() => undefined);
        }
      },
    },
  ]);
}
