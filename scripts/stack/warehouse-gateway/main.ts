// Warehouse gateway: a Databricks-shaped HTTPS endpoint in front of the local Spark Thrift Server.
//
// @databricks/sql speaks to Databricks SQL warehouses; OSS Spark speaks the same Thrift service with Hive's
// older conventions. This loopback gateway lets the unmodified driver (and so the sink's production code)
// talk to Spark: it checks the Bearer token like a warehouse does, swaps it for the Basic credentials Spark's
// HTTP transport expects, rewrites the two incompatible messages (see rewrites.ts), and passes every other
// message through byte for byte. When Spark is down it answers 503, as a warehouse that is starting does, so
// the driver's own retry policy applies. It is part of the local stack only; nothing in the product uses it.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { peekHeader, readSingleField, writeSingleField, type ThriftStruct } from './thrift-message.ts';
import { rewriteOpenSession, rewriteResultSetMetadata, type OpenSessionReq, type ResultSetMetadataResp } from './rewrites.ts';

const require = createRequire(import.meta.url);
const types = require('@databricks/sql/thrift/TCLIService_types') as {
  TOpenSessionReq: new () => ThriftStruct & OpenSessionReq;
  TGetResultSetMetadataResp: new () => ThriftStruct & ResultSetMetadataResp;
};

// Settings come from scripts/lib.sh through scripts/stack/warehouse.sh.
const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`warehouse gateway: ${name} is not set (start it with scripts/stack/warehouse.sh up)`);
  return v;
};
const listenPort = Number(env('TL_WAREHOUSE_PORT'));
const httpPath = env('TL_WAREHOUSE_PATH');
const token = env('TL_WAREHOUSE_TOKEN');
const sparkPort = Number(env('TL_SPARK_PORT'));
const tlsDir = env('TL_TLS_DIR');
const cert = readFileSync(`${tlsDir}/local.crt`);
const key = readFileSync(`${tlsDir}/local.key`);
// Spark's HTTP transport (auth NONE) still parses a Basic header and wants a user and a password.
const sparkAuth = 'Basic ' + Buffer.from('tracelake:local').toString('base64');
const agent = new https.Agent({ keepAlive: true, ca: cert, maxSockets: 16 });

function log(msg: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), component: 'warehouse-gateway', msg, ...extra }) + '\n');
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function toSpark(payload: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = https.request(
      {
        host: '127.0.0.1', port: sparkPort, path: '/cliservice', method: 'POST', agent,
        headers: { 'Content-Type': 'application/x-thrift', 'Content-Length': payload.length, Authorization: sparkAuth },
      },
      (res) => { body(res).then((b) => resolve({ status: res.statusCode ?? 502, body: b }), reject); },
    );
    r.on('error', reject);
    r.end(payload);
  });
}

function rewriteCall(payload: Buffer): Buffer {
  const header = peekHeader(payload);
  if (header.name !== 'OpenSession') return payload;
  const req = new types.TOpenSessionReq();
  if (!readSingleField(payload, 1, req) || !rewriteOpenSession(req)) return payload;
  return writeSingleField(header, 1, req);
}

function rewriteReply(payload: Buffer): Buffer {
  if (payload.length === 0) return payload;
  const header = peekHeader(payload);
  if (header.name !== 'GetResultSetMetadata') return payload;
  const resp = new types.TGetResultSetMetadataResp();
  if (!readSingleField(payload, 0, resp) || !rewriteResultSetMetadata(resp)) return payload;
  return writeSingleField(header, 0, resp);
}

function reply(res: ServerResponse, status: number, payload: Buffer | string, type = 'application/x-thrift'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(payload) });
  res.end(payload);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== httpPath) {
    return reply(res, 404, `no warehouse at ${req.method} ${req.url}; use POST ${httpPath}`, 'text/plain');
  }
  if (req.headers.authorization !== `Bearer ${token}`) {
    return reply(res, 401, 'invalid access token', 'text/plain');
  }
  const call = await body(req);
  let answer: { status: number; body: Buffer };
  try {
    answer = await toSpark(rewriteCall(call));
  } catch (err) {
    log('spark unreachable', { err: String(err) });
    return reply(res, 503, 'warehouse is starting or unavailable (Spark Thrift Server unreachable)', 'text/plain');
  }
  if (answer.status !== 200) return reply(res, answer.status >= 500 ? answer.status : 502, answer.body);
  reply(res, 200, rewriteReply(answer.body));
}

const server = https.createServer({ cert, key }, (req, res) => {
  handle(req, res).catch((err: unknown) => {
    log('request failed', { err: String(err) });
    if (!res.headersSent) reply(res, 500, 'warehouse gateway error', 'text/plain');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(listenPort, '127.0.0.1', () => log('listening', { port: listenPort, path: httpPath, sparkPort }));
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => server.close(() => process.exit(0)));
