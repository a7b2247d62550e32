// Every configuration field with its type, default and meaning, from the zod schema itself (for
// `tracelake config …` and docs/configuration.md).
import { z } from 'zod';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
}

export interface FieldDoc {
  path: string;
  type: string;
  required: boolean;
  default: string;
  description: string;
}

export function configFields(schema: z.ZodType): FieldDoc[] {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: FieldDoc[] = [];
  const walk = (s: JsonSchema, path: string, required: boolean) => {
    if (path) out.push({ path, type: typeOf(s), required, default: s.default === undefined ? '' : JSON.stringify(s.default), description: s.description ?? '' });
    if (s.type === 'object' && s.properties) {
      for (const [k, v] of Object.entries(s.properties)) walk(v, path ? `${path}.${k}` : k, (s.required ?? []).includes(k) && v.default === undefined);
    }
  };
  walk(root, '', true);
  return out;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (s.type === 'object' && !s.properties && typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties)}`;
  if (s.type === 'integer') return `integer${s.minimum !== undefined ? ` ≥ ${s.minimum}` : ''}`;
  return Array.isArray(s.type) ? s.type.join(' \\| ') : s.type ?? 'any';
}

/** Plain text for a terminal. */
export function configReference(schema: z.ZodType): string {
  return configFields(schema).map((f) =>
    `${f.path}  (${f.type.replace(/\\\|/g, '|')}${f.required ? ', required' : ''}${f.default ? `, default ${f.default}` : ''})${f.description ? `\n    ${f.description}` : ''}`).join('\n') + '\n';
}
