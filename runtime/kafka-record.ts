// kafkajs encodes each record of a produce request (Kafka's record format v2: length, attributes, timestamp
// delta, offset delta, key, value, headers) through a fresh zero-filled 512-byte encoder, one Buffer.from per
// varint and a 64-bit Long emulation for the timestamp delta: about 10% of the connector's main thread in a
// profile of a small-row stream (docs/benchmarks.md). kafkajs has no hook for it; as with its CRC-32C
// (kafka-crc32c.ts), its CommonJS record module gets a version that writes a record into one pooled buffer of
// its exact size — for records without headers whose key and value are Buffers (or null) and whose deltas are
// 32-bit integers, which is every record the connector sends; any other record is left to kafkajs' own. It is
// installed only when both encode sample records to the same bytes (kafkajs-swap.ts). Import this before kafkajs
// loads.
import { swapKafkajsModule } from './kafkajs-swap.ts';
import { bytesOrNull, encoded, isInt32, noHeaders, recordBodySize, uvarintSize, writeRecord, zigzag, type Encoded } from './kafka-wire.ts';

interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
}
type RecordEncoder = (args: RecordArgs) => Encoded;

function exact(own: RecordEncoder): RecordEncoder {
  return (args) => {
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers } = args;
    if (!isInt32(offsetDelta) || !isInt32(timestampDelta) || !bytesOrNull(key) || !bytesOrNull(value) || !noHeaders(headers)) return own(args);
    const body = recordBodySize(timestampDelta, offsetDelta, key, value);
    const size = uvarintSize(zigzag(body)) + body;
    const buf = Buffer.allocUnsafe(size); // pooled below 4 KB; every byte is written below
    writeRecord(buf, 0, body, timestampDelta, offsetDelta, key, value);
    return encoded(buf, size);
  };
}

const samples: RecordArgs[] = [
  { offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k'), value: Buffer.from('v') },
  { offsetDelta: 300, timestampDelta: 70_000, key: null, value: Buffer.alloc(20_000, 7) },
  { offsetDelta: 5, timestampDelta: -3, key: Buffer.alloc(200, 1), value: null },
  { offsetDelta: 1, timestampDelta: 2 ** 40, key: Buffer.from('k'), value: Buffer.from('v') }, // kafkajs' own
  { offsetDelta: 2, key: Buffer.from('k'), value: Buffer.from('v'), headers: { h: 'x' } }, // kafkajs' own
];

/** true when kafkajs' records are encoded in one exact-size buffer */
export const exactRecords: boolean = swapKafkajsModule<RecordEncoder>(
  'kafkajs/src/protocol/recordBatch/record/v0/index.js',
  exact,
  (own, ours) => samples.every((s) => ours(s).buffer.equals(own(s).buffer)),
);
