// The structured logger both services use: pino JSON lines with the component, ISO timestamps, and
// secrets censored wherever they appear in a logged object (connection URLs, tokens, passwords,
// Authorization headers). Row values are never passed to the logger.
import pino, { type Logger } from 'pino';

/** Paths whose values are never logged. */
export const REDACT_PATHS = [
  'token', 'password', 'url', 'connectionString',
  '*.token', '*.password', '*.url', '*.connectionString', '*.authorization', '*.Authorization',
  '*.*.token', '*.*.password', '*.*.url', 'req.headers.authorization',
];

export function createLogger(component: string): Logger {
  return pino({
    base: { component },
    level: process.env.TRACELAKE_LOG_LEVEL ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  });
}
