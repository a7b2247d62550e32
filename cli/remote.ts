// The CLI side of the REST API: status and the lifecycle verbs against a running service.
export const REMOTE_COMMANDS = ['status', 'pause', 'resume', 'stop', 'restart', 'offsets', 'snapshot'];

const VERBS: Record<string, [method: string, path: string]> = {
  status: ['GET', '/status'], pause: ['PUT', '/pause'], resume: ['PUT', '/resume'], stop: ['PUT', '/stop'], restart: ['POST', '/restart'],
};

export async function remote(command: string, args: string[], opts: { url: string; token: string | undefined; reset: boolean }): Promise<number> {
  let [method, path] = VERBS[command] ?? ['GET', '/offsets'];
  if (command === 'offsets' && opts.reset) method = 'DELETE';
  if (command === 'snapshot') {
    if (!args[0]) {
      process.stderr.write('tracelake snapshot: name the table, e.g. tracelake snapshot public.spans\n');
      return 2;
    }
    [method, path] = ['POST', `/tables/${encodeURIComponent(args[0])}/snapshot`];
  }
  const url = `${opts.url.replace(/\/$/, '')}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { method, headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {}, signal: AbortSignal.timeout(120_000) });
  } catch (err) {
    process.stderr.write(`tracelake: cannot reach ${url}: ${String((err as Error).cause ?? (err as Error).message)}\n  fix: check --url (the service's http.host:http.port)\n`);
    return 1;
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: print as is
  }
  process.stdout.write(`${typeof body === 'string' ? body : JSON.stringify(body, null, 2)}\n`);
  return res.ok ? 0 : 1;
}
