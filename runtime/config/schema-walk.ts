// Reading the structure of a zod config schema (which keys an object has, what a field's base type is),
// for error hints and environment overrides. Wrappers (default, prefault, optional, pipe) are seen through.
import type { z } from 'zod';

interface Def { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: Record<string, z.ZodType>; valueType?: z.ZodType }

function def(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schema with default/prefault/optional/nullable/pipe wrappers removed. */
export function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = def(s);
    if (d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else return s;
  }
}

/** The schema of the field at `path` (a record's entries by any key), or undefined when the path leaves the schema. */
export function schemaAt(s: z.ZodType, path: string[]): z.ZodType | undefined {
  let cur: z.ZodType | undefined = s;
  for (const p of path) {
    if (!cur) return undefined;
    const d = def(unwrap(cur));
    cur = d.type === 'object' ? d.shape?.[p] : d.type === 'record' ? d.valueType : undefined;
  }
  return cur;
}

/** The keys of an object schema ([] for anything else). */
export function objectKeys(s: z.ZodType | undefined): string[] {
  if (!s) return [];
  const d = def(unwrap(s));
  return d.type === 'object' ? Object.keys(d.shape ?? {}) : [];
}

/** The base type name of a field: string, number, boolean, enum, array, record, object, … */
export function baseType(s: z.ZodType): string {
  return def(unwrap(s)).type;
}
