// Which Kafka record compression fits trace payloads: gzip and zstd (Node's own zlib) and the Kafka client's
// own codecs as it runs them (@platformatic/kafka: zstd and gzip through zlib on the calling thread, lz4 and
// snappy in WebAssembly) on three realistic values — a batch of ordinary ~2 KB
// span rows, a 1 MB long-context prompt (English prose and code: this repository's docs and sources), and an
// 8 MB image data URL (a photo is already compressed, so its base64 is as random as random bytes). Reports
// ratio and compress / decompress MB/s, median of repeats; appends a row per codec to docs/benchmarks.md.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { compressionsAlgorithms } from '@platformatic/kafka';
import { ROOT, appendResults, load1, machine, median, today } from './lib/harness.ts';

const REPEATS = 5;

/** `bytes` of distinct text: every tracked .md and .ts file once (a repeated file would flatter a long-window codec). */
function prose(bytes: number): string {
  const files = execFileSync('git', ['ls-files', '*.md', '*.ts'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  let text = '';
  for (const f of files) {
    if (text.length >= bytes) break;
    text += readFileSync(join(ROOT, f), 'utf8');
  }
  if (text.length < bytes) throw new Error(`only ${text.length} bytes of distinct text`);
  return text.slice(0, bytes);
}

function spanRows(count: number): string {
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    rows.push(JSON.stringify({
      id: i, trace_id: randomBytes(16).toString('hex'), span_id: randomBytes(8).toString('hex'), name: 'ChatCompletion',
      attributes: {
        llm: { model_name: 'gpt-4o-mini', token_count: { prompt: 812 + i, completion: 97 } },
        input: { value: `Summarise ticket #${i}: the customer reports that exports fail after the upgrade.` },
        output: { value: `Ticket ${i}: exports fail since the upgrade; likely the new timeout. Suggest a retry.` },
        openinference: { span: { kind: 'LLM' } },
      },
      start_time: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    }));
  }
  return rows.join('\n');
}

const payloads: Array<[string, Buffer]> = [
  [`500 span rows (${(spanRows(500).length / 500).toFixed(0)} B each, JSON)`, Buffer.from(spanRows(500))],
  ['1 MB prompt (docs and code, no repeats)', Buffer.from(JSON.stringify({ 'input.value': prose(900_000) }))],
  ['8 MB image data URL', Buffer.from(JSON.stringify({ url: `data:image/jpeg;base64,${randomBytes(6 << 20).toString('base64')}` }))],
];

type Codec = { name: string; compress: (b: Buffer) => Promise<Buffer>; decompress: (b: Buffer) => Promise<Buffer> };
const zstdLevel3 = { params: { [zlib.constants.ZSTD_c_compressionLevel]: 3 } };
const codecs: Codec[] = [
  { name: 'gzip (level 6)', compress: (b) => promisify(zlib.gzip)(b), decompress: (b) => promisify(zlib.gunzip)(b) },
  { name: 'zstd (level 3)', compress: (b) => promisify(zlib.zstdCompress)(b, zstdLevel3), decompress: (b) => promisify(zlib.zstdDecompress)(b) },
  ...(['zstd', 'lz4', 'snappy'] as const).map((n): Codec => ({
    name: `${n}, the Kafka client's (sync)`,
    compress: async (b) => Buffer.from(compressionsAlgorithms[n].compressSync(b) as Buffer),
    decompress: async (b) => Buffer.from(compressionsAlgorithms[n].decompressSync(b) as Buffer),
  })),
];


async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const out = await f();
  return [out, Number(process.hrtime.bigint() - t0) / 1e6];
}

const lines: string[] = [];
for (const [label, data] of payloads) {
  for (const c of codecs) {
    const cms: number[] = [];
    const dms: number[] = [];
    let size = 0;
    for (let i = 0; i < REPEATS; i++) {
      const [packed, ct] = await timed(() => c.compress(data));
      const [back, dt] = await timed(() => c.decompress(packed));
      if (!back.equals(data)) throw new Error(`${c.name} did not round-trip ${label}`);
      size = packed.length;
      cms.push(ct);
      dms.push(dt);
    }
    const mb = data.length / 1e6;
    const line = `| ${label} | ${c.name} | ${(data.length / size).toFixed(2)} | ${(mb / (median(cms) / 1000)).toFixed(0)} | ${(mb / (median(dms) / 1000)).toFixed(0)} |`;
    console.log(line);
    lines.push(line);
  }
}

appendResults([
  `## Record compression codecs — ${today()} (bench/compression.ts)`, '',
  `${machine()}, load ${load1()}; Node ${process.version}, node:zlib and @platformatic/kafka's codecs, median of ${REPEATS}; MB/s of uncompressed bytes, one core.`, '',
  '| payload | codec | ratio | compress MB/s | decompress MB/s |', '|---|---|---|---|---|', ...lines,
]);
