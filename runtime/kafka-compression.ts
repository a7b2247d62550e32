// Record compression of what the services produce. zstd is the default: on trace payloads it compresses as well as
// gzip or better and 4–10× faster on large values (bench/compression.ts, docs/benchmarks.md). lz4 and snappy,
// Kafka's usual throughput codecs, are 1.6–2.5× faster on text but store it ~1.7× larger (ratio 2.1 against
// zstd's 3.5 on a 1 MB prompt) and do not shrink base64 images at all. The client (@platformatic/kafka) runs
// zstd and gzip through Node's own zlib and lz4 and snappy in WebAssembly: no native add-on to install, and a
// consumer reads whatever codec the producer chose.
import { z } from 'zod';

export const compressionField = z.enum(['zstd', 'lz4', 'snappy', 'gzip', 'none']).default('zstd')
  .describe('record compression of what the service produces: zstd (default: the best ratio on trace text and JSON at 120–660 MB/s), lz4 or snappy (faster, ~1.7× larger on text, no gain on images), gzip, or none (docs/benchmarks.md)');

export type Compression = z.output<typeof compressionField>;
