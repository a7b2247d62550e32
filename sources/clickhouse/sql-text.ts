// Reading ClickHouse's own text — type names, engine arguments, sorting keys, mutation commands — at its top
// level: outside string literals and quoted names, and at a given parenthesis depth. Pure.

/**
 * The first index outside string literals and quoted names at which `at(i, depth)` holds; `depth` is the
 * parenthesis depth after the character at i. -1 when there is none.
 */
export function scan(text: string, at: (i: number, depth: number) => boolean): number {
  let depth = 0, quoted: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === quoted) quoted = null;
      continue;
    }
    if (ch === "'" || ch === '`' || ch === '"') quoted = ch;
    else if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    if (at(i, depth)) return i;
  }
  return -1;
}

/** Splits a list at its top-level commas: `a, f(b, c), 'd,e'` → ['a', 'f(b, c)', "'d,e'"]. */
export function splitTopLevel(list: string): string[] {
  if (list.trim() === '') return [];
  const out: string[] = [];
  let start = 0;
  scan(list, (i, depth) => {
    if (depth === 0 && list[i] === ',') {
      out.push(list.slice(start, i).trim());
      start = i + 1;
    }
    return false;
  });
  out.push(list.slice(start).trim());
  return out;
}

/** `(…)` → `…` when the first parenthesis closes at the end. */
export function unwrap(s: string): string {
  const t = s.trim();
  if (!t.startsWith('(')) return t;
  return scan(t, (i, depth) => depth === 0 && t[i] === ')') === t.length - 1 ? t.slice(1, -1).trim() : t;
}

/** The arguments of a call or parametrized type: `Decimal(10, 2)` → ['10', '2']; none without parentheses. */
export function callArgs(text: string): string[] {
  const open = text.indexOf('(');
  if (open < 0 || !text.endsWith(')')) return [];
  return splitTopLevel(text.slice(open + 1, -1));
}
