// The ClickHouse source's only I/O: the official HTTP client (@clickhouse/client) reading the catalog
// (system.tables, system.columns, system.parts) and the rows of parts. Values are selected as text
// (clickhouse-types.ts) and arrive as JSONCompactEachRow arrays of strings and nulls.
import fs from 'node:fs';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { chString } from './clickhouse-types.ts';
import type { PartInfo } from './part-plan.ts';
import type { MutationInfo } from './mutation-plan.ts';
import type { TableActivity } from './langfuse-generation.ts';

export interface ClickHouseConnection {
  url: string;
  username: string;
  password: string;
  /** CA certificate (PEM file) to trust for https:// URLs */
  caFile?: string;
  requestTimeoutMs: number;
}

export interface TableMeta {
  name: string;
  engine: string;
  engineFull: string;
  sortingKey: string;
}

/** Rows and bytes the engine read for a query (its X-ClickHouse-Summary). */
export interface ReadStats {
  readRows: number;
  readBytes: number;
}

/**
 * Every query runs in UTC and reports its statistics once it is done; a long one (a snapshot's part read) sends
 * progress headers every 10 s, so that no proxy or load balancer closes the connection as idle (the client's own
 * advice for a request_timeout above a minute).
 */
const SETTINGS: ClickHouseSettings = { session_timezone: 'UTC', wait_end_of_query: 1, send_progress_in_http_headers: 1, http_headers_progress_interval_ms: '10000' };

export class ClickHouseReader {
  private readonly client: ClickHouseClient;

  constructor(conn: ClickHouseConnection, applicationName = 'tracelake-connector') {
    this.client = createClient({
      url: conn.url, username: conn.username, password: conn.password, application: applicationName,
      request_timeout: conn.requestTimeoutMs, clickhouse_settings: SETTINGS,
      ...(conn.caFile ? { tls: { ca_cert: fs.readFileSync(conn.caFile) } } : {}),
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /**
   * The server's version and the zone it reads a date-time text in (mutations run with the server's
   * settings) — a query, not only /ping: it proves the credentials.
   */
  async server(): Promise<{ version: string; timezone: string }> {
    const [row] = await this.all('SELECT version(), serverTimezone()');
    return { version: row?.[0] ?? '', timezone: row?.[1] ?? 'UTC' };
  }

  async tables(database: string): Promise<TableMeta[]> {
    const rows = await this.all(`SELECT name, engine, engine_full, sorting_key FROM system.tables WHERE database = ${chString(database)} ORDER BY name`);
    return rows.map(([name, engine, engineFull, sortingKey]) => ({ name: name!, engine: engine!, engineFull: engineFull ?? '', sortingKey: sortingKey ?? '' }));
  }

  /** Every table of the database, with its rows and when its newest part was written (langfuse-generation.ts). */
  async tableActivity(database: string): Promise<Map<string, TableActivity>> {
    const db = chString(database);
    const rows = await this.all(
      `SELECT t.name, toString(ifNull(p.rows, 0)), toString(ifNull(p.last, 0)) FROM system.tables AS t
         LEFT JOIN (SELECT table, sum(rows) AS rows, toUnixTimestamp(max(modification_time)) AS last FROM system.parts
                     WHERE database = ${db} AND active GROUP BY table) AS p ON p.table = t.name
        WHERE t.database = ${db}`);
    return new Map(rows.map(([name, count, last]) => [name!, { rows: Number(count), lastWriteMs: Number(last) * 1000 }]));
  }

  async columns(database: string, table: string): Promise<Array<{ name: string; type: string }>> {
    const rows = await this.all(`SELECT name, type FROM system.columns WHERE database = ${chString(database)} AND table = ${chString(table)} ORDER BY position`);
    return rows.map(([name, type]) => ({ name: name!, type: type! }));
  }

  /** The table's active parts (a poll's confirming listing: without the columns' fingerprint). */
  async parts(database: string, table: string): Promise<PartInfo[]> {
    return (await this.listParts(database, table, false)).parts;
  }

  /**
   * The table's active parts, and a fingerprint of its columns (names and types in order) — in one round trip: a
   * poll learns whether to look at the columns again without asking (null when the table has no parts).
   * system.tables' metadata_modification_time would not do: it counts whole seconds, and a column added in the
   * same second as the table was created or last changed went unnoticed (its rows were read without it).
   */
  async partsAndColumnsKey(database: string, table: string): Promise<{ parts: PartInfo[]; columnsKey: string | null }> {
    return this.listParts(database, table, true);
  }

  private async listParts(database: string, table: string, withColumnsKey: boolean): Promise<{ parts: PartInfo[]; columnsKey: string | null }> {
    const [db, tb] = [chString(database), chString(table)];
    const columnsKey = withColumnsKey
      ? `(SELECT toString(cityHash64(arrayStringConcat(groupArray(concat(name, ' ', type)), ',')))
           FROM (SELECT name, type FROM system.columns WHERE database = ${db} AND table = ${tb} ORDER BY position))`
      : 'NULL';
    const rows = await this.all(
      `SELECT partition_id, name, toString(min_block_number), toString(max_block_number), toString(rows), ${columnsKey}
         FROM system.parts WHERE database = ${db} AND table = ${tb} AND active`);
    return {
      parts: rows.map(([partition, name, min, max, count]) => ({
        partition: partition!, name: name!, minBlock: BigInt(min!), maxBlock: BigInt(max!), rows: Number(count),
      })),
      columnsKey: rows[0]?.[5] ?? null,
    };
  }

  /** The table's finished mutations (system.mutations keeps the last ones: finished_mutations_to_keep). */
  async mutations(database: string, table: string): Promise<MutationInfo[]> {
    const rows = await this.all(
      `SELECT mutation_id, toString(arrayMax(block_numbers.number)), command, toString(toUnixTimestamp(create_time))
         FROM system.mutations WHERE database = ${chString(database)} AND table = ${chString(table)} AND is_done`);
    return rows.map(([id, version, command, created]) => ({ id: id!, version: BigInt(version!), command: command!, createdUs: BigInt(created!) * 1_000_000n }));
  }

  /** Streams the rows of `query` (every column a String or NULL) to `onRow`, awaited row by row; resolves with what the engine read. */
  async rows(query: string, onRow: (row: Array<string | null>) => unknown, settings: ClickHouseSettings = {}): Promise<ReadStats> {
    const rs = await this.client.query({ query, format: 'JSONCompactEachRow', clickhouse_settings: settings });
    for await (const chunk of rs.stream<Array<string | null>>()) {
      for (const row of chunk) {
        const r = onRow(row.json());
        if (r instanceof Promise) await r;
      }
    }
    const summary = rs.response_headers['x-clickhouse-summary'];
    const parsed = typeof summary === 'string' ? (JSON.parse(summary) as Record<string, string>) : {};
    return { readRows: Number(parsed.read_rows ?? 0), readBytes: Number(parsed.read_bytes ?? 0) };
  }

  private async all(query: string): Promise<Array<Array<string | null>>> {
    const out: Array<Array<string | null>> = [];
    await this.rows(query, (r) => out.push(r.map((v) => (v === null ? null : String(v)))));
    return out;
  }
}
