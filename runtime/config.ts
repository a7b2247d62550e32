// Validating a service configuration against its zod schema: one error listing every problem with its
// field path and what is expected, so an operator fixes the file in one go.
import type { z } from 'zod';
import { TracelakeError } from '../schemas/src/errors.ts';

export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, service: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new TracelakeError(`invalid ${service} configuration:\n${lines.join('\n')}`, {
    code: 'BAD_CONFIG', remedy: 'correct the fields listed; the schema with every default is in the service\'s config.ts',
  });
}
