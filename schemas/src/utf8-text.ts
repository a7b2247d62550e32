// A column value kept as the UTF-8 bytes the source sent, not decoded into a string. Written into an Avro string
// as it is (avro/types.ts): a multi-megabyte prompt is copied once instead of decoded into UTF-16 and
// encoded back (that round trip was most of the encoder thread's time on 1 MB rows, docs/benchmarks.md). Decoded
// only where a converter needs the text (numbers, timestamps, arrays) or a message shows it. Pure.
import { isUtf8 } from 'node:buffer';

export class Utf8Text {
  /** the text's UTF-8 bytes (a view into the job's buffer: valid while the job is being encoded) */
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  /**
   * The bytes are well-formed UTF-8, so writing them as they are gives what decoding and encoding again would.
   * (A source in another encoding renders invalid sequences as U+FFFD when decoded; those values take that path.)
   */
  get wellFormed(): boolean {
    return isUtf8(this.bytes);
  }

  toString(): string {
    return this.bytes.toString('utf8');
  }
}

/** Two raw column values are the same (a Utf8Text compares by its bytes, with a string by the string's UTF-8). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Utf8Text) return b instanceof Utf8Text ? a.bytes.equals(b.bytes) : typeof b === 'string' && a.bytes.equals(Buffer.from(b));
  if (b instanceof Utf8Text) return sameValue(b, a);
  return a === b;
}

/** The UTF-8 size of a raw text value. */
export function textBytes(v: string | Utf8Text): number {
  return typeof v === 'string' ? Buffer.byteLength(v) : v.bytes.length;
}
