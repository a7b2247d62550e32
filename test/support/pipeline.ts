// A test's pipeline environment: a Postgres fixture, a warehouse connection, and cleanup that stops the
// services started in the test (last first) before dropping what the test created.
import { connectorFixture, type ConnectorFixture } from './connector.ts';
import { connectTestWarehouse } from './warehouse.ts';
import type { Warehouse } from '../../sink/src/warehouse/databricks-client.ts';

export interface PipelineEnv {
  fx: ConnectorFixture;
  wh: Warehouse;
  /** stop functions run by the cleanup, last registered first */
  stops: Array<() => Promise<void>>;
}

export async function pipelineEnv(t: { after(fn: () => Promise<void>): void }, prefix: string): Promise<PipelineEnv> {
  const fx = await connectorFixture(prefix);
  const wh = await connectTestWarehouse();
  const stops: Array<() => Promise<void>> = [];
  t.after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await wh.query(`DROP SCHEMA IF EXISTS ${fx.name} CASCADE`).catch(() => undefined);
    await wh.close();
    await fx.cleanup();
  });
  return { fx, wh, stops };
}
