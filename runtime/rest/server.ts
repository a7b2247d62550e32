// A small JSON HTTP server for the REST API: routes by method and path pattern, bearer-token protection
// for mutating requests, JSON errors ({ error_code, message } as in Kafka Connect) for every failure.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface Reply {
  status?: number;
  json?: unknown;
  text?: string;
  contentType?: string;
}

export interface Request {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

export interface Route {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** e.g. /tables/:table/snapshot */
  path: string;
  handle(req: Request): Promise<Reply> | Reply;
}

export interface RestServerOptions {
  host: string;
  port: number;
  token?: string | undefined;
  log: Logger;
}

const MAX_BODY = 1024 * 1024;

export class RestServer {
  private readonly routes: Array<Route & { re: RegExp; names: string[] }>;
  private readonly opts: RestServerOptions;
  private server: Server | undefined;

  constructor(routes: Route[], opts: RestServerOptions) {
    this.opts = opts;
    this.routes = routes.map((r) => {
      const names: string[] = [];
      const re = new RegExp(`^${r.path.replace(/:(\w+)/g, (_, n: string) => (names.push(n), '([^/]+)'))}/?$`);
      return { ...r, re, names };
    });
  }

  async listen(): Promise<number> {
    this.server = createServer((req, res) => void this.dispatch(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port, this.opts.host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const candidates = this.routes.filter((r) => r.re.test(url.pathname));
      if (candidates.length === 0) throw new HttpError(404, `no endpoint ${url.pathname}`);
      const route = candidates.find((r) => r.method === req.method);
      if (!route) {
        res.setHeader('Allow', candidates.map((r) => r.method).join(', '));
        throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}; use ${candidates.map((r) => r.method).join(' or ')}`);
      }
      if (route.method !== 'GET') this.authorize(req);
      const m = route.re.exec(url.pathname)!;
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
      const body = await readBody(req);
      send(res, await route.handle({ params, query: url.searchParams, body }));
    } catch (err) {
      const status = err instanceof HttpError ? err.status : statusOf(err);
      if (status >= 500) this.opts.log.error({ err, path: req.url }, 'REST request failed');
      const e = err as Error & { code?: string; remedy?: string };
      send(res, { status, json: { error_code: status, message: e.message, ...(e.code ? { code: e.code } : {}), ...(e.remedy ? { remedy: e.remedy } : {}) } });
    }
  }

  private authorize(req: IncomingMessage): void {
    const token = this.opts.token;
    if (!token) return;
    const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new HttpError(401, 'this endpoint needs Authorization: Bearer <http.token>');
    }
  }
}

/** Errors the services raise for a request in the wrong state or with bad content. */
function statusOf(err: unknown): number {
  const code = (err as { code?: string }).code;
  if (code === 'CONFLICT') return 409;
  if (code === 'BAD_REQUEST' || code === 'BAD_CONFIG') return 400;
  if (code === 'NOT_FOUND' || code === 'TABLE_MISSING') return 404;
  return 500;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body larger than ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
}

function send(res: ServerResponse, r: Reply): void {
  if (res.headersSent) return;
  const status = r.status ?? 200;
  if (r.text !== undefined) {
    res.writeHead(status, { 'Content-Type': r.contentType ?? 'text/plain; charset=utf-8' });
    res.end(r.text);
  } else if (r.json === undefined) {
    res.writeHead(status).end();
  } else {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(r.json, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  }
}
