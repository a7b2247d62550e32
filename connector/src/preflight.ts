// What `tracelake validate connector` checks before anything runs: Postgres (reachable, wal_level,
// REPLICATION, each table readable with a key, publication and slot usable) when it is a source, the export
// bucket when one is, Kafka and the registry.
import pg from 'pg';
import type { ConnectorConfig } from './config.ts';
import { captureList } from '../../sources/postgres/capture-list.ts';
import { tableInfo } from '../../sources/postgres/catalog.ts';
import { checkWalLevel, slotState, assertSlotUsable } from '../../sources/postgres/slot.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import type { ObjectStorageSourceConfig } from '../../sources/object-storage/object-storage-config.ts';
import { registryCheck, runChecks, withKafkaAdmin, type CheckResult } from '../../runtime/checks.ts';

const fail = (message: string, code: string, remedy: string) => new TracelakeError(message, { code, remedy });

export async function connectorChecks(cfg: ConnectorConfig): Promise<CheckResult[]> {
  const shared = [
    {
      name: 'kafka: brokers',
      run: () => withKafkaAdmin(cfg.kafka, async (admin) => {
        const cluster = await admin.metadata({ topics: [] });
        if (cluster.brokers.size < cfg.kafka.replicationFactor) {
          throw fail(`kafka.replicationFactor ${cfg.kafka.replicationFactor} exceeds the ${cluster.brokers.size} broker(s)`, 'KAFKA_RF', 'lower kafka.replicationFactor');
        }
        return `${cluster.brokers.size} broker(s), cluster ${cluster.id}`;
      }),
    },
    { name: 'schema registry', run: () => registryCheck(cfg.registry.url) },
    ...(cfg.objectStorage ? [objectStorageCheck(cfg.objectStorage)] : []),
  ];
  if (!cfg.source.url) return runChecks(shared);
  const db = new pg.Client({ connectionString: cfg.source.url, application_name: 'tracelake-validate', connectionTimeoutMillis: 10_000 });
  let connected = false;
  const needDb = () => {
    if (!connected) throw fail('not checked: Postgres is not reachable', 'SKIPPED', '');
  };
  try {
    return await runChecks([
      {
        name: 'postgres: connect',
        run: async () => {
          await db.connect().catch((err: Error) => {
            throw fail(`cannot connect to Postgres: ${err.message}`, 'PG_UNREACHABLE', 'check source.url (host, port, database, user, password) and that the server accepts connections (pg_hba.conf)');
          });
          connected = true;
          const { rows: [r] } = await db.query<{ v: string; u: string }>('SELECT current_setting(\'server_version\') AS v, current_user AS u');
          return `server ${r!.v}, user ${r!.u}`;
        },
      },
      { name: 'postgres: wal_level', run: async () => (needDb(), await checkWalLevel(db), 'logical') },
      {
        name: 'postgres: REPLICATION privilege',
        run: async () => {
          needDb();
          const { rows: [r] } = await db.query<{ rep: boolean; sup: boolean }>('SELECT rolreplication AS rep, rolsuper AS sup FROM pg_roles WHERE rolname = current_user');
          if (!r?.rep && !r?.sup) throw fail('the connector user lacks the REPLICATION attribute', 'PG_PRIVILEGE', 'ALTER ROLE <user> WITH REPLICATION (a superuser is not needed; see docs/operations.md for the least-privilege role)');
          return r.sup ? 'superuser (works; a REPLICATION role with SELECT is enough)' : 'REPLICATION';
        },
      },
      {
        name: 'postgres: captured tables',
        run: async () => {
          needDb();
          const { tables, fromPreset } = captureList(cfg.source, cfg.clickhouse !== undefined);
          const problems: string[] = [];
          let found = 0;
          for (const qualified of tables) {
            const [schema, table] = qualified.split('.') as [string, string];
            const info = await tableInfo(db, schema, table);
            if (!info) {
              if (!fromPreset) problems.push(`${qualified} does not exist (or is not visible to the user)`);
              continue;
            }
            found++;
            const { rows: [p] } = await db.query<{ ok: boolean }>('SELECT has_table_privilege(format(\'%I.%I\', $1::text, $2::text), \'SELECT\') AS ok', [schema, table]);
            if (!p?.ok) problems.push(`no SELECT on ${qualified} (GRANT SELECT ON ${qualified} TO <user>)`);
            if (info.replicaIdentity === 'nothing') problems.push(`${qualified} has REPLICA IDENTITY NOTHING (ALTER TABLE ${qualified} REPLICA IDENTITY DEFAULT)`);
            if (info.primaryKey.length === 0 && !cfg.source.keyColumns[qualified]) problems.push(`${qualified} has no primary key (add one, or set source.keyColumns["${qualified}"])`);
          }
          if (problems.length > 0) throw fail(problems.join('; '), 'PG_TABLES', 'fix each table listed');
          if (found === 0) throw fail('none of the configured tables exists', 'PG_TABLES', 'check source.tables / source.schema');
          return `${found} table(s) readable with a key`;
        },
      },
      {
        name: 'postgres: publication',
        run: async () => {
          needDb();
          const name = cfg.source.publication.name;
          const { rows: [pub] } = await db.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name]);
          if (pub) return `${name} exists${cfg.source.publication.autocreate === 'filtered' ? ' (its table list is kept in step)' : ''}`;
          if (cfg.source.publication.autocreate === 'disabled') throw fail(`publication ${name} does not exist and publication.autocreate is disabled`, 'PUBLICATION_MISSING', `CREATE PUBLICATION ${name} FOR TABLE …, or set publication.autocreate: filtered`);
          const { rows: [c] } = await db.query<{ ok: boolean }>('SELECT has_database_privilege(current_database(), \'CREATE\') AS ok');
          if (!c?.ok) throw fail(`publication ${name} does not exist and the user may not create it (no CREATE on the database)`, 'PG_PRIVILEGE', `GRANT CREATE ON DATABASE <db> TO <user>, or create the publication as the tables' owner and set publication.autocreate: disabled`);
          return `${name} will be created (the user must own the captured tables)`;
        },
      },
      {
        name: 'postgres: replication slot',
        run: async () => {
          needDb();
          const name = cfg.source.slot.name;
          const s = await slotState(db, name);
          if (!s.exists) {
            const { rows: [r] } = await db.query<{ free: number }>('SELECT current_setting(\'max_replication_slots\')::int - (SELECT count(*) FROM pg_replication_slots)::int AS free');
            if ((r?.free ?? 0) <= 0) throw fail('no free replication slot (max_replication_slots reached)', 'PG_SLOTS', 'raise max_replication_slots and restart Postgres, or drop an unused slot');
            return `${name} will be created (${r!.free} slot(s) free)`;
          }
          assertSlotUsable(name, s);
          return `${name} exists, wal_status ${s.walStatus}${s.activePid ? `, streamed by pid ${s.activePid} (this instance would stand by)` : ''}`;
        },
      },
      ...shared,
    ]);
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** The bucket answers and the prefix can be listed with the configured credentials. */
function objectStorageCheck(os: ObjectStorageSourceConfig) {
  return {
    name: 'object storage: list the export prefix',
    run: async () => {
      // loaded here: the connector's service imports these checks, and only this one needs the S3 SDK
      const { S3ObjectStore } = await import('../../sources/object-storage/object-store.ts');
      const store = new S3ObjectStore(os);
      try {
        const listed = await store.list(os.prefix);
        return `${listed.length} object(s) under s3://${os.bucket}/${os.prefix}`;
      } finally {
        store.close();
      }
    },
  };
}
