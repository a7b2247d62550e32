// kafkajs computes the CRC-32C of every record batch it produces in JavaScript, a byte at a time: 11–14% of
// the connector's CPU in a profile of a snapshot (docs/benchmarks.md). @node-rs/crc32 (a kept library with
// prebuilt binaries on npm) computes it natively. kafkajs has no hook for it, so its CommonJS crc32C module,
// already loaded here, gets the native function as its exports before kafkajs' record batch encoder requires
// it — when both agree on sample data (kafkajs-swap.ts). If anything does not fit (another kafkajs layout, no
// binary for this platform), kafkajs keeps its own. Import this before anything that loads kafkajs.
import { createRequire } from 'node:module';
import { swapKafkajsModule } from './kafkajs-swap.ts';

const require = createRequire(import.meta.url);

type Crc = (buffer: Buffer) => number;

const samples = [Buffer.alloc(0), Buffer.from('123456789'), Buffer.from(Array.from({ length: 4099 }, (_, i) => (i * 131 + 7) & 0xff))];

/** true when kafkajs' record batches are checksummed natively */
export const nativeCrc32c: boolean = swapKafkajsModule<Crc>(
  'kafkajs/src/protocol/recordBatch/crc32C/index.js',
  () => {
    const { crc32c } = require('@node-rs/crc32') as { crc32c(input: Uint8Array): number };
    return (buffer) => crc32c(buffer) >>> 0;
  },
  (own, native) => samples.every((s) => own(s) === native(s)),
);
