// A Langfuse v3/v4 deployment for a test: Postgres with Langfuse's projects (the tables v3/v4 keep there that
// the views join), a ClickHouse database with its trace tables, and the connector and sink configurations that
// capture both (source.platform langfuse plus the clickhouse section) into one Delta schema.
import { pipelineEnv, type PipelineEnv } from './pipeline.ts';
import { clickhouseFixture, type ClickHouseFixture } from './clickhouse.ts';
import { startConnector } from './connector.ts';
import { sinkConfig, startSink } from './sink.ts';
import type { ConnectorConfigInput } from '../../connector/src/config.ts';

export interface LangfusePipeline extends PipelineEnv {
  ch: ClickHouseFixture;
  connectorConfig: ConnectorConfigInput;
  /** starts the connector (in-process; resolves once it streams), stopped by the cleanup */
  startConnector(): Promise<void>;
  /** starts the sink (platform langfuse), stopped by the cleanup */
  startSink(): Promise<void>;
}

export async function langfusePipeline(t: { after(fn: () => Promise<void>): void }, prefix: string, generation: 'v3' | 'v4'): Promise<LangfusePipeline> {
  const env = await pipelineEnv(t, prefix);
  const { fx, stops } = env;
  const ch = await clickhouseFixture(prefix, generation, fx.name);
  t.after(() => ch.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.projects (id text PRIMARY KEY, name text NOT NULL)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.projects VALUES ('p1', 'support-bot')`);
  const connectorConfig = { ...fx.config({ platform: 'langfuse', schema: fx.schema }), clickhouse: ch.source() };
  return {
    ...env, ch, connectorConfig,
    async startConnector() {
      const c = await startConnector(connectorConfig);
      stops.push(async () => { await c.connector.stop(); await c.done; });
    },
    async startSink() {
      const s = await startSink({ ...sinkConfig(fx.name), platform: 'langfuse' });
      stops.push(async () => { await s.sink.stop(); await s.done; });
    },
  };
}
