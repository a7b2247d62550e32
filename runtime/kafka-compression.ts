// Record compression for both services. kafkajs ships gzip and leaves the other codecs to be plugged in through
// its public `CompressionCodecs`; zstd comes from Node's own zlib (no native add-on to install). zstd is the
// default: on trace payloads it compresses as well as gzip or better and 4–10× faster on large values
// (bench/compression.ts, docs/benchmarks.md). The sink needs the codec to read what the connector wrote, so
// runtime/kafka.ts installs it for every client.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import kafkajs from 'kafkajs';
import { z } from 'zod';

/** Kafka's default zstd level (compression.zstd.level), a good ratio at several hundred MB/s. */
const ZSTD_LEVEL = 3;
const zstdCompress = promisify(zlib.zstdCompress);
const zstdDecompress = promisify(zlib.zstdDecompress);

/**
 * zlib's output chunk for `bytes` of input: the whole result in one chunk (zstd's output bound is the input plus
 * a little), up to 16 MiB (zlib allocates the chunk before it knows the result's size). With zlib's default of 16 KiB, a 1 MB record came back in ~64 pieces, each a hop from the thread pool
 * to the event loop and a buffer to concatenate (the connector's main thread spent more time there than in
 * anything but garbage collection, streaming 1 MB rows).
 */
const chunkFor = (bytes: number): number => Math.min(16 << 20, Math.max(64 << 10, bytes + (bytes >> 7) + (64 << 10)));

const zstdCodec = {
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
    const input = encoder.buffer;
    return zstdCompress(input, { chunkSize: chunkFor(input.length), params: { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    // a guess at the output (trace text compresses about 4:1); more comes in further chunks
    return zstdDecompress(buffer, { chunkSize: chunkFor(buffer.length * 4) });
  },
};

const { CompressionCodecs, CompressionTypes } = kafkajs; // a CommonJS module: its named exports are not static
CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec;

export const compressionField = z.enum(['zstd', 'gzip', 'none']).default('zstd')
  .describe('record compression of what the service produces: zstd (default: best ratio and speed on trace text and JSON, docs/benchmarks.md), gzip, or none');

export type Compression = z.output<typeof compressionField>;

/** The kafkajs compression type of a configured codec. */
export function compressionType(c: Compression): kafkajs.CompressionTypes {
  return c === 'zstd' ? CompressionTypes.ZSTD : c === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
}
