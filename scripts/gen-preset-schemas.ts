// Writes schemas/avro/<platform>/<table>.avsc from a live database of that platform:
//   node scripts/gen-preset-schemas.ts phoenix postgres://postgres@127.0.0.1:55432/phoenix [schema]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { PRESETS } from '../schemas/src/platforms.ts';
import { tableInfo, TypeCatalog } from '../sources/postgres/catalog.ts';
import { buildTableSchema } from '../sources/postgres/table-schema.ts';
import { valueSchema } from '../schemas/src/envelope.ts';
import { defaultMappingOptions } from '../schemas/src/pg-types.ts';
import { presetSchemaPath } from '../sources/postgres/preset-schemas.ts';

const [platform, url, schema = 'public'] = process.argv.slice(2) as ['phoenix' | 'langfuse', string, string?];
if (!platform || !url || !(platform in PRESETS)) {
  process.stderr.write('usage: node scripts/gen-preset-schemas.ts phoenix|langfuse <postgres-url> [schema]\n');
  process.exit(2);
}
const db = new pg.Client({ connectionString: url });
await db.connect();
const catalog = new TypeCatalog(() => db);
for (const table of PRESETS[platform].tables) {
  const info = await tableInfo(db, schema, table);
  if (!info) continue;
  const types = await catalog.resolve(info.columns.map((c) => c.typeOid));
  const t = buildTableSchema(schema, table, info.columns, info.primaryKey, types, defaultMappingOptions);
  const path = presetSchemaPath(platform, table);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(valueSchema('tracelake', { ...t, schema: platform }), null, 2) + '\n');
  process.stdout.write(`${path}\n`);
}
await db.end();
