// Record compression of what the services produce. zstd is the default: on trace payloads it compresses as well as
// gzip or better and 4–10× faster on large values (bench/compression.ts, docs/benchmarks.md). The client
// (@platformatic/kafka) compresses and decompresses with Node's own zlib: no native add-on to install, and a
// consumer reads whatever codec the producer chose.
import { z } from 'zod';

export const compressionField = z.enum(['zstd', 'gzip', 'none']).default('zstd')
  .describe('record compression of what the service produces: zstd (default: best ratio and speed on trace text and JSON, docs/benchmarks.md), gzip, or none');

export type Compression = z.output<typeof compressionField>;
