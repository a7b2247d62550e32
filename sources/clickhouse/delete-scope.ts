// A lightweight DELETE's predicate, as system.mutations shows it, turned into a row scope the sink can apply
// to the mirror (schemas/src/row-scope.ts). Pure.
//
// ClickHouse formats the predicates it stores: `(project_id = 'p') AND (trace_id IN ('a', 'b'))`,
// `ts >= '2026-01-01'` (BETWEEN becomes two comparisons), query parameters as `_CAST('1793491200',
// 'DateTime64(3)')` or `_CAST(['a', 'b'], 'Array(String)')`, date-time texts as `toDateTime64('…', 6, 'UTC')`.
// Understood: column comparisons (=, !=, <>, <, <=, >, >=), IN / NOT IN lists, AND, OR, NOT, parentheses, string
// and number literals, arrays, tuples, _CAST and the toDate/toDateTime(64) of a UTC text. Anything
// else (functions, expressions over columns, columns the table lacks) gives null: the delete is then followed
// only through the rows it masked.
import { baseType } from './clickhouse-types.ts';
import type { RowScope, ScopeValue } from '../../schemas/src/row-scope.ts';

type Token = { kind: 'ident' | 'string' | 'number' | 'op' | 'punct'; text: string };

function tokenize(text: string): Token[] | null {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) { i++; continue; }
    if (ch === "'") {
      let s = '';
      for (i++; i < text.length && text[i] !== "'"; i++) {
        if (text[i] === '\\') {
          const e = text[++i];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '0' ? '\0' : e === 'b' ? '\b' : e === 'f' ? '\f' : (e ?? '');
        } else s += text[i];
      }
      if (text[i] !== "'") return null;
      i++;
      out.push({ kind: 'string', text: s });
      continue;
    }
    if (ch === '`' || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) return null;
      out.push({ kind: 'ident', text: text.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const num = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i));
    if (num && (ch !== '-' || out.length === 0 || out.at(-1)!.kind === 'op' || out.at(-1)!.text === '(' || out.at(-1)!.text === ',')) {
      out.push({ kind: 'number', text: num[0] });
      i += num[0].length;
      continue;
    }
    const op = /^(<=|>=|!=|<>|==|=|<|>)/.exec(text.slice(i));
    if (op) {
      out.push({ kind: 'op', text: op[0] === '<>' ? '!=' : op[0] === '==' ? '=' : op[0] });
      i += op[0].length;
      continue;
    }
    if ('(),[]'.includes(ch)) {
      out.push({ kind: 'punct', text: ch });
      i++;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!id) return null;
    out.push({ kind: 'ident', text: id[0] });
    i += id[0].length;
  }
  return out;
}

class Fail extends Error {}

/** Converts a literal to the cell text of a column of ClickHouse type `type`. */
function cell(literal: { kind: 'string' | 'number'; text: string }, type: string): ScopeValue {
  const base = baseType(type).base;
  const name = base.replace(/\(.*$/s, '');
  if (name === 'DateTime' || name === 'DateTime64') return micros(literal);
  if (name === 'Date' || name === 'Date32') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(literal.text);
    if (!m) throw new Fail();
    return String(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86_400_000);
  }
  if (name === 'Bool') return literal.text === '1' || literal.text === 'true' ? 'true' : 'false';
  if (/^(U?Int\d+|Float\d+|Decimal\d*)$/.test(name)) {
    if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(literal.text)) throw new Fail();
    return literal.text;
  }
  if (['String', 'FixedString', 'UUID', 'Enum8', 'Enum16'].includes(name)) return literal.text;
  throw new Fail();
}

/** A DateTime literal as µs since 1970 (UTC; the source reads in UTC): 'YYYY-MM-DD[ hh:mm:ss[.f…]]' or epoch seconds. */
function micros(literal: { text: string }): string {
  const epoch = /^(\d+)(?:\.(\d{1,6}))?$/.exec(literal.text);
  if (epoch) return (BigInt(epoch[1]!) * 1_000_000n + BigInt((epoch[2] ?? '').padEnd(6, '0'))).toString();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?$/.exec(literal.text);
  if (!m) throw new Fail();
  const seconds = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)) / 1000;
  return (BigInt(seconds) * 1_000_000n + BigInt((m[7] ?? '').slice(0, 6).padEnd(6, '0'))).toString();
}

class Parser {
  private pos = 0;
  private readonly tokens: Token[];
  private readonly types: Map<string, string>;
  private readonly serverTimezone: string;

  constructor(tokens: Token[], types: Map<string, string>, serverTimezone: string) {
    this.tokens = tokens;
    this.types = types;
    this.serverTimezone = serverTimezone;
  }

  private peek(): Token | undefined { return this.tokens[this.pos]; }
  private next(): Token {
    const t = this.tokens[this.pos++];
    if (!t) throw new Fail();
    return t;
  }
  private keyword(word: string): boolean {
    const t = this.peek();
    if (t?.kind === 'ident' && t.text.toUpperCase() === word) { this.pos++; return true; }
    return false;
  }
  private punct(p: string): boolean {
    if (this.peek()?.kind === 'punct' && this.peek()!.text === p) { this.pos++; return true; }
    return false;
  }
  private expect(p: string): void {
    if (!this.punct(p)) throw new Fail();
  }

  parse(): RowScope {
    const s = this.or();
    if (this.pos !== this.tokens.length) throw new Fail();
    return s;
  }

  private or(): RowScope {
    const parts = [this.and()];
    while (this.keyword('OR')) parts.push(this.and());
    return parts.length === 1 ? parts[0]! : { or: parts };
  }

  private and(): RowScope {
    const parts = [this.not()];
    while (this.keyword('AND')) parts.push(this.not());
    return parts.length === 1 ? parts[0]! : { and: parts.flatMap((p) => ('and' in p ? p.and : [p])) };
  }

  private not(): RowScope {
    if (this.keyword('NOT')) return { not: this.not() };
    if (this.peek()?.text === '(' && this.peek()?.kind === 'punct') {
      this.pos++;
      const s = this.or();
      this.expect(')');
      return s;
    }
    return this.comparison();
  }

  private comparison(): RowScope {
    const col = this.next();
    if (col.kind !== 'ident') throw new Fail();
    const type = this.types.get(col.text);
    if (!type) throw new Fail();
    if (this.keyword('NOT')) {
      if (!this.keyword('IN')) throw new Fail();
      return { not: { column: col.text, in: this.list(type) } };
    }
    if (this.keyword('IN')) return { column: col.text, in: this.list(type) };
    const op = this.next();
    if (op.kind !== 'op') throw new Fail();
    const [value] = this.values(type);
    if (value === undefined) throw new Fail();
    return { column: col.text, op: op.text as '=', value };
  }

  /** `(a, b)`, `[a, b]`, `_CAST([a, b], 'Array(T)')` or a single value. */
  private list(type: string): ScopeValue[] {
    return this.values(type);
  }

  /** One literal, or the literals of a tuple/array, converted for a column of `type`. */
  private values(type: string): ScopeValue[] {
    const t = this.next();
    if (t.kind === 'string' || t.kind === 'number') {
      // a date-time text without a time zone is read in the server's
      if (t.kind === 'string' && /DateTime/.test(type) && !/^\d+(\.\d+)?$/.test(t.text) && this.serverTimezone !== 'UTC') throw new Fail();
      return [cell(t as { kind: 'string' | 'number'; text: string }, type)];
    }
    if (t.kind === 'ident' && /^(toDateTime64|toDateTime|toDateTime32|toDate|toDate32)$/.test(t.text)) {
      // what ClickHouse makes of a date-time literal: toDateTime64('…', 6, 'UTC'); only UTC (or the server's, when UTC)
      this.expect('(');
      const text = this.next();
      if (text.kind !== 'string') throw new Fail();
      let zone = this.serverTimezone;
      while (this.punct(',')) {
        const arg = this.next();
        if (arg.kind === 'string') zone = arg.text;
        else if (arg.kind !== 'number') throw new Fail();
      }
      this.expect(')');
      if (zone !== 'UTC') throw new Fail();
      return [cell({ kind: 'string', text: text.text }, type)];
    }
    if (t.kind === 'ident' && t.text === '_CAST') {
      this.expect('(');
      const inner = this.values(type);
      this.expect(',');
      if (this.next().kind !== 'string') throw new Fail();
      this.expect(')');
      return inner;
    }
    if (t.kind === 'punct' && (t.text === '(' || t.text === '[')) {
      const close = t.text === '(' ? ')' : ']';
      const out: ScopeValue[] = [];
      if (this.punct(close)) return out;
      do out.push(...this.values(type)); while (this.punct(','));
      this.expect(close);
      return out;
    }
    throw new Fail();
  }
}

/**
 * The rows a DELETE's predicate selects, for a table with these columns; null when it is not understood.
 * `serverTimezone`: the zone the server reads a date-time text in (a mutation runs with the server's settings).
 */
export function deleteScope(predicate: string, columns: Array<{ name: string; type: string }>, serverTimezone = 'UTC'): RowScope | null {
  const tokens = tokenize(predicate);
  if (!tokens) return null;
  try {
    return new Parser(tokens, new Map(columns.map((c) => [c.name, c.type])), serverTimezone).parse();
  } catch (err) {
    if (err instanceof Fail) return null;
    throw err;
  }
}
