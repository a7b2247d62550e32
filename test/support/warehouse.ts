// The local stack's warehouse, opened with the sink's own client (sink/src/warehouse/databricks-client.ts).
import { connectWarehouse, type Warehouse } from '../../sink/src/warehouse/databricks-client.ts';
import { stack } from './stack.ts';

export function connectTestWarehouse(overrides: { token?: string } = {}): Promise<Warehouse> {
  const w = stack().warehouse;
  return connectWarehouse({ host: w.host, port: w.port, path: w.path, auth: { token: overrides.token ?? w.token }, caCert: w.caCert });
}

// An escaped Spark SQL string literal, for tests that write SQL by hand. Spark's parser unescapes backslash
// sequences (and concatenates adjacent literals, so ANSI '' doubling does NOT escape a quote: 'it''s' reads
// "its"); every character that could end or alter the literal is escaped.
const CONTROL = /[\u0000-\u001f\u007f\\']/g;
export function sqlString(value: string): string {
  return `'${value.replace(CONTROL, (c) => (c === '\\' ? '\\\\' : c === "'" ? "\\'" : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))}'`;
}
