// Where a configuration comes from: a JSON file, `${env:NAME}` / `${file:/path}` references inside its
// strings (Kafka Connect's config-provider syntax, for secrets from the environment or mounted files), and
// TRACELAKE__SECTION__FIELD environment overrides. The result is validated by the service's schema.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { baseType, objectKeys, schemaAt } from './schema-walk.ts';

const badConfig = (message: string, remedy: string) => new TracelakeError(message, { code: 'BAD_CONFIG', remedy });

/** Reads and parses a JSON config file; errors name the file and, for syntax errors, the position. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw badConfig(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'pass an existing, readable JSON file with --config');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badConfig(`config file ${path} is not valid JSON: ${(err as Error).message}`, 'fix the JSON syntax at the position given');
  }
}

export interface Environment {
  env: Record<string, string | undefined>;
  readFile: (path: string) => string;
}

const defaultEnvironment: Environment = { env: process.env, readFile: (p) => readFileSync(p, 'utf8') };

const REFERENCE = /\$\{(env|file):([^}]+)\}/g;

/** Replaces `${env:NAME}` and `${file:/path}` in every string of `raw` (a file's content is trimmed). */
export function resolveReferences(raw: unknown, environment: Environment = defaultEnvironment, path: string[] = []): unknown {
  if (typeof raw === 'string') {
    return raw.replace(REFERENCE, (_, kind: string, ref: string) => {
      const where = path.join('.') || '(root)';
      if (kind === 'env') {
        const v = environment.env[ref];
        if (v === undefined) throw badConfig(`${where} refers to \${env:${ref}}, which is not set`, `set the environment variable ${ref}, or write the value into the config`);
        return v;
      }
      try {
        return environment.readFile(ref).trim();
      } catch (err) {
        throw badConfig(`${where} refers to \${file:${ref}}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
          'mount the secret file at that path, readable by the service user');
      }
    });
  }
  if (Array.isArray(raw)) return raw.map((v, i) => resolveReferences(v, environment, [...path, String(i)]));
  if (raw && typeof raw === 'object') {
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, resolveReferences(v, environment, [...path, k])]));
  }
  return raw;
}

export const OVERRIDE_PREFIX = 'TRACELAKE__';

/**
 * Applies TRACELAKE__SECTION__FIELD=value overrides (case-insensitive names, `__` between levels, e.g.
 * TRACELAKE__SOURCE__SLOT__NAME). String and enum fields take the value as is; other fields take JSON
 * (numbers, booleans, arrays, objects).
 */
export function applyOverrides(raw: unknown, schema: z.ZodType, env: Record<string, string | undefined> = process.env): unknown {
  const out = structuredClone(raw ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(OVERRIDE_PREFIX) || value === undefined) continue;
    const parts = name.slice(OVERRIDE_PREFIX.length).split('__');
    const path: string[] = [];
    for (const part of parts) {
      const keys = objectKeys(schemaAt(schema, path));
      const key = keys.find((k) => k.toLowerCase() === part.toLowerCase());
      if (!key) {
        throw badConfig(`environment variable ${name}: ${[...path, part].join('.')} is not a configuration field`,
          `known fields at ${path.join('.') || 'the top level'}: ${keys.join(', ')}`);
      }
      path.push(key);
    }
    const field = schemaAt(schema, path)!;
    let parsed: unknown = value;
    if (!['string', 'enum'].includes(baseType(field))) {
      try {
        parsed = JSON.parse(value);
      } catch {
        throw badConfig(`environment variable ${name} is not valid JSON for ${path.join('.')} (${baseType(field)})`, 'write numbers, booleans and arrays as JSON, e.g. ["a:9092"]');
      }
    }
    let node = out;
    for (const p of path.slice(0, -1)) {
      if (!node[p] || typeof node[p] !== 'object') node[p] = {};
      node = node[p] as Record<string, unknown>;
    }
    node[path.at(-1)!] = parsed;
  }
  return out;
}

/** File → overrides → references: the raw configuration a schema validates. */
export function loadRawConfig(file: string, schema: z.ZodType, environment: Environment = defaultEnvironment): unknown {
  return resolveReferences(applyOverrides(readConfigFile(file), schema, environment.env), environment);
}
