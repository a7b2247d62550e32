// The warehouse connection a sink configuration describes (shared by the sink and \`tracelake validate\`).
import { readFileSync } from 'node:fs';
import type { SinkConfig } from '../config.ts';
import type { WarehouseOptions } from './databricks-client.ts';

export function warehouseOptions(w: SinkConfig['warehouse'], log?: WarehouseOptions['log']): WarehouseOptions {
  return {
    host: w.host, port: w.port, path: w.path, sessions: w.concurrency,
    auth: w.oauth ? { clientId: w.oauth.clientId, clientSecret: w.oauth.clientSecret } : { token: w.token! },
    ...(w.caCertFile ? { caCert: readFileSync(w.caCertFile) } : {}),
    ...(log ? { log } : {}),
  };
}
