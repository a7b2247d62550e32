// The Postgres source's main connection is shared by the stream's catalog look-ups (a RELATION message), the
// heartbeat timer and the slot checks. node-postgres queues a query sent while another runs, but warns that this
// is deprecated (pg 9 removes it): queries on a shared connection are chained here, one after another.
import type pg from 'pg';

/** Makes `client.query` (promise form) wait for the query before it; returns the client. */
export function serialQueries<C extends pg.Client>(client: C): C {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  let last: Promise<unknown> = Promise.resolve();
  client.query = ((...args: unknown[]) => {
    const run = last.then(() => query(...args));
    last = run.catch(() => undefined);
    return run;
  }) as typeof client.query;
  return client;
}
