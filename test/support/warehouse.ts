// The local stack's warehouse, opened with the sink's own client (sink/src/warehouse/databricks-client.ts).
import { connectWarehouse, type Warehouse } from '../../sink/src/warehouse/databricks-client.ts';
import { stack } from './stack.ts';

export function connectTestWarehouse(overrides: { token?: string } = {}): Promise<Warehouse> {
  const w = stack().warehouse;
  return connectWarehouse({ host: w.host, port: w.port, path: w.path, auth: { token: overrides.token ?? w.token }, caCert: w.caCert });
}
