// A row too large for one statement: its text is staged in parts, then merged from the stage. Pure.
//
// Databricks limits a statement's text to 16 MiB ("The maximum query text size is 16 MiB", Statement
// Execution API reference), and the sink keeps its statements under maxStatementBytes (15 MiB by default); a
// Phoenix span with an image data URL is 17 MB and more. Such a row's text (the same JSON a normal MERGE
// carries inline, already safe inside r'…') is cut into parts of at most STAGED_PART_BYTES, each INSERTed as
// one row of the table's stage table `<table>__staged`; then one MERGE reads the document back as the parts
// joined in order and applies it exactly as an inline row; then the parts are deleted. Every value still
// travels as statement text in a raw literal, so nothing new reaches the engine's rewriting.
//
// A string longer than the engine's JSON reader takes in one JSON string (Jackson refuses strings beyond
// 20,000,000 characters: 21M failed on the local engine) travels as an array of parts of PART_CHARS, typed
// ARRAY<STRING> in this statement's from_json schema and joined back by array_join before its usual
// conversion.
//
// The row's text is written cell by cell and cut into parts as it goes, and a long value is escaped a part at
// a time: the text of the whole row is never in memory at once (for a 60 MB row it would be 120 MB of
// UTF-16 twice over, past the services' heap bound).
//
// Retries and replays: parts are keyed by the row's source position (the same row stages the same parts), and
// the document is built from the distinct (part, text) pairs, so a part inserted twice (a retried INSERT whose
// first try had committed, a replay after a crash) is counted once. Parts left behind by a crash are
// removed by the next staged row of the table after a day.
import type { FoldedRow } from '../fold/fold-batch.ts';
import { dataCell, mergeStatement, metaCells, rawSafe, type PartedColumns, type TablePlanInput } from './merge-plan.ts';

/** Room for the INSERT around a part. */
const INSERT_OVERHEAD = 512;
/**
 * The most UTF-8 bytes of row text per staged part (less when maxStatementBytes is smaller). A part is held
 * several times over while it is sent — its piece, the INSERT's text (UTF-16: twice its bytes once the text holds
 * a character past Latin-1), the driver's UTF-8 copy — next to the row's own decoded values, so parts of 15 MiB
 * ran the sink past its 256 MB heap on a ~60 MB row; each part costs one INSERT more (docs/benchmarks.md).
 */
export const STAGED_PART_BYTES = 4 * 1024 * 1024;
/** Characters per part of a long string (the engine's JSON reader takes at most 20,000,000 in one string). */
export const PART_CHARS = 8_000_000;

/** Characters a value's cell holds at least: a string's length, bytes' base64 length, else 0. */
const cellChars = (v: unknown): number => (typeof v === 'string' ? v.length : Buffer.isBuffer(v) ? Math.ceil(v.length / 3) * 4 : 0);

/**
 * Whether a row goes the staged way, decided without writing its text out: its values surely exceed a statement,
 * or one of them must travel in parts (a string past PART_CHARS, which maxStatementBytes up to 8 MB covers too).
 */
export function stagedRow(p: TablePlanInput, r: FoldedRow): boolean {
  let chars = 0;
  for (const c of p.columns) {
    const n = cellChars(r.values[c.field]);
    if (n > PART_CHARS && c.type.text) return true;
    chars += n;
  }
  return chars > p.maxStatementBytes;
}

/** The columns of a row whose value is a string (or bytes' base64) longer than PART_CHARS. */
export function partedColumns(p: TablePlanInput, r: FoldedRow): PartedColumns {
  const out = new Set<number>();
  if (r.op === 'delete') return out; // only its key travels
  p.columns.forEach((c, i) => {
    if (c.type.text && cellChars(r.values[c.field]) > PART_CHARS) out.add(i);
  });
  return out;
}

/** The statements that merge one large row: create the stage, insert the parts, merge, clean up. */
export function* planStagedMerge(p: TablePlanInput, row: FoldedRow): Generator<string, void, undefined> {
  const token = `${row.commitLsn}.${row.seq}`;
  const parted = partedColumns(p, row);
  yield `CREATE TABLE IF NOT EXISTS ${p.staged} (token STRING, part INT, text STRING, staged_at TIMESTAMP) USING DELTA`;
  let part = 0;
  for (const piece of literalParts(rowTexts(p, row, parted), Math.max(1024, Math.min(p.maxStatementBytes, STAGED_PART_BYTES) - INSERT_OVERHEAD))) {
    yield `INSERT INTO ${p.staged} VALUES ('${token}', ${part++}, r'${piece}', current_timestamp())`;
  }
  const joined = `array_join(transform(array_sort(array_distinct(collect_list(struct(part, text)))), x -> x.text), '')`;
  const docFrom = `(SELECT concat('[', ${joined}, ']') AS doc FROM ${p.staged} WHERE token = '${token}') j`;
  yield mergeStatement(p, [row], { docFrom }, parted);
  yield `DELETE FROM ${p.staged} WHERE token = '${token}' OR staged_at < current_timestamp() - INTERVAL 1 DAY`;
}

/**
 * The row's JSON object (as rowCells writes it; parted columns as arrays of parts) in pieces, each safe
 * inside r'…' (rawSafe); joined, they are the row's text.
 */
export function* rowTexts(p: TablePlanInput, r: FoldedRow, parted: PartedColumns): Generator<string, void, undefined> {
  yield '{';
  for (let i = 0; i < p.columns.length; i++) {
    if (!parted.has(i)) {
      yield rawSafe(`${dataCell(p, r, i)},`);
      continue;
    }
    const text = p.columns[i]!.type.text!(r.values[p.columns[i]!.field]);
    yield `"c${i}":[`;
    for (let start = 0; start < text.length;) {
      let end = Math.min(text.length, start + PART_CHARS);
      if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--; // a pair stays together
      yield rawSafe(`${start > 0 ? ',' : ''}${JSON.stringify(text.slice(start, end))}`);
      start = end;
    }
    yield '],';
  }
  yield `${rawSafe(metaCells(r))}}`;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

/**
 * The texts joined and cut into pieces of at most `maxBytes` UTF-8 bytes, in order (joined, they are the
 * texts joined), each fit to stand in a raw literal r'…' of its own:
 * - cut only between characters: never inside a multi-byte sequence or between the halves of a surrogate pair;
 * - never after an odd run of backslashes. Every statement first meets the Delta SQL extension's parser, whose
 *   lexer has no raw literals: to it r'…\' is a quote escaped by a backslash, so the literal runs on to the
 *   statement's end and its error recovery spends time quadratic in the statement's length (seen: a 4 MiB
 *   INSERT held a Spark core for 13 minutes). An even run reads as escaped backslashes, which end cleanly.
 * Only what is not yet cut is held: about maxBytes plus the text being added.
 */
export function* literalParts(texts: Iterable<string>, maxBytes: number): Generator<string, void, undefined> {
  let rest = '';
  for (const text of texts) {
    rest += text;
    if (rest.length <= maxBytes) continue; // at most 3 bytes a character: cut once it may be past maxBytes
    const bytes = Buffer.from(rest, 'utf8');
    let start = 0;
    while (bytes.length - start > maxBytes) {
      const end = cutAt(bytes, start, maxBytes);
      yield bytes.toString('utf8', start, end);
      start = end;
    }
    rest = bytes.toString('utf8', start);
  }
  if (rest.length === 0) return;
  const bytes = Buffer.from(rest, 'utf8');
  for (let start = 0; start < bytes.length;) {
    const end = cutAt(bytes, start, maxBytes);
    yield bytes.toString('utf8', start, end);
    start = end;
  }
}

/** Where the piece of `bytes` starting at `start` ends: at most maxBytes on, by the rules of literalParts. */
function cutAt(bytes: Buffer, start: number, maxBytes: number): number {
  let end = Math.min(bytes.length, start + maxBytes);
  // back off from a continuation byte (10xxxxxx): the cut lands before the character it belongs to
  while (end < bytes.length && end > start && (bytes[end]! & 0xc0) === 0x80) end--;
  if (end < bytes.length && trailingBackslashes(bytes, start, end) % 2 === 1) end--; // the last one goes to the next piece
  if (end === start) throw new Error(`a piece of ${maxBytes} bytes cannot hold one character`);
  return end;
}

function trailingBackslashes(bytes: Buffer, start: number, end: number): number {
  let n = 0;
  while (end - n > start && bytes[end - n - 1] === 0x5c) n++;
  return n;
}
