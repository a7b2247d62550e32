// Validating a service configuration against its zod schema: one error listing every problem with its
// field path, the value found and how to fix it, so an operator corrects the file in one go.
import type { z } from 'zod';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { schemaAt, objectKeys } from './schema-walk.ts';

export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, service: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new TracelakeError(`invalid ${service} configuration:\n${describeIssues(schema, input, r.error.issues).join('\n')}`, {
    code: 'BAD_CONFIG', remedy: `correct the fields listed; every field, its default and meaning: docs/configuration.md (or \`tracelake config ${service}\`)`,
  });
}

/** One line per problem: `  path: what is wrong (found: value) → fix`. */
export function describeIssues(schema: z.ZodType, input: unknown, issues: z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    const path = i.path.map(String);
    const where = path.join('.') || '(root)';
    if (i.code === 'unrecognized_keys') {
      const known = objectKeys(schemaAt(schema, path));
      const hints = i.keys.map((k) => {
        const near = closest(k, known);
        return `"${k}"${near ? ` (did you mean "${near}"?)` : ''}`;
      });
      return `  ${where}: unknown key ${hints.join(', ')} → remove it; known keys here: ${known.join(', ')}`;
    }
    const found = valueAt(input, path);
    const shown = found === undefined ? 'nothing' : show(path, found);
    return `  ${where}: ${i.message} (found: ${shown})${fixFor(i, found)}`;
  });
}

function fixFor(i: z.core.$ZodIssue, found: unknown): string {
  switch (i.code) {
    case 'invalid_value':
      return ` → use one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return found === undefined ? ` → this field is required: add a ${i.expected}` : ` → write a ${i.expected}`;
    case 'too_small':
      return ` → use at least ${String(i.minimum)}${i.origin === 'array' ? ' item(s)' : ''}`;
    case 'too_big':
      return ` → use at most ${String(i.maximum)}`;
    case 'invalid_format':
      return i.format === 'url' ? ' → write a full URL, e.g. http://registry:8081' : '';
    default:
      return '';
  }
}

function valueAt(input: unknown, path: string[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/** A value for an error message: secrets are never shown, credentials in URLs are masked. */
function show(path: string[], v: unknown): string {
  const secret = (key: string) => /token|password|secret/i.test(key);
  if (secret(path.at(-1) ?? '')) return '[redacted]';
  const text = JSON.stringify(v, (key, value: unknown) => (key && secret(key) ? '[redacted]' : value)) ?? String(v);
  const masked = text.replace(/(\/\/[^:/@"]+):[^@"]*@/g, '$1:***@');
  return masked.length > 120 ? `${masked.slice(0, 117)}...` : masked;
}

/** The known key nearest to `key` by edit distance (case-insensitive), when it is plausibly a typo. */
export function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The problems of a configuration as { field, message } (for the REST validate endpoint); [] when valid. */
export function configProblems(schema: z.ZodType, input: unknown): Array<{ field: string; message: string }> {
  const r = schema.safeParse(input);
  if (r.success) return [];
  return describeIssues(schema, input, r.error.issues).map((line) => {
    const m = /^ {2}([^:]+): (.*)$/s.exec(line)!;
    return { field: m[1]!, message: m[2]! };
  });
}
