// SQL literals for Databricks SQL / Spark SQL. Spark's parser unescapes backslash sequences inside string
// literals (and concatenates adjacent literals, so the ANSI '' doubling does NOT escape a quote there:
// 'it''s' reads as "its"). Every character that could end or alter the literal is escaped, so the text
// lands byte-identical and can never break out of the quotes.

const CONTROL = /[\u0000-\u001f\u007f\\']/g;

export function sqlString(value: string): string {
  return `'${value.replace(CONTROL, escapeChar)}'`;
}

function escapeChar(c: string): string {
  if (c === '\\') return '\\\\';
  if (c === "'") return "\\'";
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** A back-quoted identifier (table, column); backticks inside are doubled. */
export function sqlIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}
