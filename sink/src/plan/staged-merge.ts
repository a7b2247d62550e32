// A row too large for one statement: its text is staged in parts, then merged from the stage. Pure.
//
// Databricks limits a statement's text to 16 MiB ("The maximum query text size is 16 MiB", Statement
// Execution API reference), and the sink keeps its statements under maxStatementBytes (4 MiB) besides; a
// Phoenix span with an image data URL is 17 MB and more. Such a row's text (rowCells: the same JSON a normal
// MERGE carries inline, already safe inside r'…') is cut into parts of at most maxStatementBytes, each
// INSERTed as one row of the table's stage table `<table>__staged`; then one MERGE reads the document back
// as the parts joined in order and applies it exactly as an inline row; then the parts are deleted. Every
// value still travels as statement text in a raw literal, so nothing new reaches the engine's rewriting.
//
// Retries and replays: parts are keyed by the row's source position (the same row stages the same parts), and
// the document is built from the distinct (part, text) pairs, so a part inserted twice (a retried INSERT whose
// first try had committed, a replay after a crash) is counted once. Parts left behind by a crash are
// removed by the next staged row of the table after a day.
import { sqlIdent } from '../sql/literals.ts';
import type { FoldedRow } from '../fold/fold-batch.ts';
import { mergeStatement, type TablePlanInput } from './merge-plan.ts';

/** Room for the INSERT around a part. */
const INSERT_OVERHEAD = 512;

/** The statements that merge one large row: create the stage, insert the parts, merge, clean up. */
export function* planStagedMerge(p: TablePlanInput, row: FoldedRow, text: string): Generator<string, void, undefined> {
  const token = `${row.commitLsn}.${row.seq}`;
  yield `CREATE TABLE IF NOT EXISTS ${p.staged} (token STRING, part INT, text STRING, staged_at TIMESTAMP) USING DELTA`;
  let part = 0;
  for (const piece of utf8Pieces(text, Math.max(1024, p.maxStatementBytes - INSERT_OVERHEAD))) {
    yield `INSERT INTO ${p.staged} VALUES ('${token}', ${part++}, r'${piece}', current_timestamp())`;
  }
  const joined = `array_join(transform(array_sort(array_distinct(collect_list(struct(part, text)))), x -> x.text), '')`;
  const docFrom = `(SELECT concat('[', ${joined}, ']') AS doc FROM ${p.staged} WHERE token = '${token}') j`;
  yield mergeStatement(p, [row], { docFrom });
  yield `DELETE FROM ${p.staged} WHERE token = '${token}' OR staged_at < current_timestamp() - INTERVAL 1 DAY`;
}

/**
 * `text` in pieces of at most `maxBytes` UTF-8 bytes, in order (joined they are `text`), each fit to stand in
 * a raw literal r'…' of its own:
 * - cut only between characters: never inside a multi-byte sequence or between the halves of a surrogate pair;
 * - never after an odd run of backslashes. Every statement first meets the Delta SQL extension's parser, whose
 *   lexer has no raw literals: to it r'…\' is a quote escaped by a backslash, so the literal runs on to the
 *   statement's end and its error recovery spends time quadratic in the statement's length (seen: a 4 MiB
 *   INSERT held a Spark core for 13 minutes). An even run reads as escaped backslashes, which end cleanly.
 */
export function* utf8Pieces(text: string, maxBytes: number): Generator<string, void, undefined> {
  const bytes = Buffer.from(text, 'utf8');
  for (let start = 0; start < bytes.length;) {
    let end = Math.min(bytes.length, start + maxBytes);
    // back off from a continuation byte (10xxxxxx): the cut lands before the character it belongs to
    while (end < bytes.length && end > start && (bytes[end]! & 0xc0) === 0x80) end--;
    if (end < bytes.length && trailingBackslashes(bytes, start, end) % 2 === 1) end--; // the last one goes to the next piece
    if (end === start) throw new Error(`a piece of ${maxBytes} bytes cannot hold one character`);
    yield bytes.toString('utf8', start, end);
    start = end;
  }
}

function trailingBackslashes(bytes: Buffer, start: number, end: number): number {
  let n = 0;
  while (end - n > start && bytes[end - n - 1] === 0x5c) n++;
  return n;
}

export const stagedTableName = (name: string): string => sqlIdent(`${name}__staged`);
