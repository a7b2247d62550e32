// How tracelake replaces a hot kafkajs internal that has no hook (kafka-crc32c.ts, kafka-grouping.ts,
// kafka-record.ts): the CommonJS module is loaded, its replacement built from it, and the replacement becomes
// the module's exports — before the rest of kafkajs requires it, so import these files before kafkajs loads
// (runtime/kafka.ts does) — but only when `agrees` finds both give the same results on sample data. If
// anything does not fit (another kafkajs layout, a missing native binary), kafkajs keeps its own.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Returns whether the replacement is installed. */
export function swapKafkajsModule<T>(module: string, replace: (own: T) => T, agrees: (own: T, replacement: T) => boolean): boolean {
  try {
    const path = require.resolve(module);
    const own = require(path) as T;
    const replacement = replace(own);
    if (!agrees(own, replacement)) return false;
    require.cache[path]!.exports = replacement;
    return true;
  } catch {
    return false;
  }
}
