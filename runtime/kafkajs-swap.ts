// How tracelake replaces a hot kafkajs internal that has no hook (kafka-crc32c.ts, kafka-grouping.ts,
// kafka-produce-request.ts): the CommonJS module is loaded, its replacement built from it, and the replacement becomes
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

/**
 * For a kafkajs module that exports an async function, whose results can only be compared asynchronously: its
 * exports become a function that calls kafkajs' own until `agrees` has found both give the same results, and the
 * replacement from then on (the check runs at once, on sample data, long before the first request). Resolves to
 * whether the replacement is in use.
 */
export function swapKafkajsFunction<F extends (...args: never[]) => unknown>(module: string, replace: (own: F) => F, agrees: (own: F, replacement: F) => Promise<boolean>): Promise<boolean> {
  try {
    const path = require.resolve(module);
    const own = require(path) as F;
    const replacement = replace(own);
    let use: F = own;
    const dispatch = ((...args: Parameters<F>) => use(...args)) as F;
    require.cache[path]!.exports = dispatch;
    return agrees(own, replacement).then(
      (same) => {
        if (same) use = replacement;
        return same;
      },
      () => false,
    );
  } catch {
    return Promise.resolve(false);
  }
}
