// The members of a JSON object, each value as its exact text in the file. Export files hold prompts, completions
// and metadata as JSON values; parsing them into JavaScript values and serialising them again would change them
// (integers past 2^53, number spellings, key order of duplicates, whitespace), so the source slices the text
// instead: a value lands in Delta byte for byte as the file holds it. Pure; the text is valid JSON (checked
// with JSON.parse before it is sliced).

/** JSON text of one value: a string literal, an object, an array or a scalar, as it stands in the file. */
export class JsonText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }

  /** a string literal: its string (escapes resolved); otherwise undefined */
  get string(): string | undefined {
    return this.text.charCodeAt(0) === 0x22 ? (JSON.parse(this.text) as string) : undefined;
  }

  get isNull(): boolean {
    return this.text === 'null';
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s.charCodeAt(i))) i++;
  return i;
}

/** The index just past the string literal that starts at i (s[i] is '"'). */
function endOfString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  throw new SyntaxError('unterminated string');
}

/** The index just past the value that starts at i. */
function endOfValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x22) return endOfString(s, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j);
      if (d === 0x22) j = endOfString(s, j) - 1;
      else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return j + 1;
      }
    }
    throw new SyntaxError('unterminated object or array');
  }
  let j = i;
  while (j < s.length) {
    const d = s.charCodeAt(j);
    if (d === 0x2c || d === 0x7d || d === 0x5d || WS.has(d)) break;
    j++;
  }
  return j;
}

/** The members of the object text s[start, end): name → value text, in file order (a repeated name: the last wins, as JSON.parse has it). */
export function objectMembers(s: string, start = 0, end = s.length): Map<string, JsonText> {
  const out = new Map<string, JsonText>();
  let i = skipWs(s, start);
  if (s.charCodeAt(i) !== 0x7b) throw new SyntaxError('not a JSON object');
  i = skipWs(s, i + 1);
  if (s.charCodeAt(i) === 0x7d) return out;
  while (i < end) {
    const keyEnd = endOfString(s, i);
    const name = JSON.parse(s.slice(i, keyEnd)) as string;
    i = skipWs(s, keyEnd);
    i = skipWs(s, i + 1); // ':'
    const valueEnd = endOfValue(s, i);
    out.set(name, new JsonText(s.slice(i, valueEnd)));
    i = skipWs(s, valueEnd);
    if (s.charCodeAt(i) === 0x7d) return out;
    i = skipWs(s, i + 1); // ','
  }
  throw new SyntaxError('unterminated object');
}

/** The elements of the array text s: each as [start, end). */
export function arrayElements(s: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = skipWs(s, 0);
  if (s.charCodeAt(i) !== 0x5b) throw new SyntaxError('not a JSON array');
  i = skipWs(s, i + 1);
  if (s.charCodeAt(i) === 0x5d) return out;
  while (i < s.length) {
    const e = endOfValue(s, i);
    out.push([i, e]);
    i = skipWs(s, e);
    if (s.charCodeAt(i) === 0x5d) return out;
    i = skipWs(s, i + 1);
  }
  throw new SyntaxError('unterminated array');
}
