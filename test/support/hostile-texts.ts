// Text that breaks naive pipelines: quoting, escapes, SQL, control characters, emoji, RTL marks, JSON in JSON,
// and text an engine rewrites before parsing (${…} is variable substitution in Spark and Databricks, raw
// literals included; comments, parameter markers). Every test of "arrives unchanged" uses all of it — each kind
// alone, and all of them in one value longer than 256 bytes (the Postgres connector carries text that long as
// its UTF-8 bytes, shorter text as strings: sources/postgres/pgoutput.ts).
const KINDS = ["it's \"quoted\"", 'back\\slash', "'; DROP TABLE spans; --", 'control \u0001\t\n\r chars', 'emoji 😀 ☃ 中文',
  '${interp}', 'a${hivevar:y}b', '${env:HOME} ${system:user.name} ${spark:spark.app.name} ${sparkconf:x}', '$${nested}}',
  '-- not a comment /* nor this */ ? :param ?? {{mustache}}', 'rtl \u202e mark \u200f and json in json {"a": "{\\"b\\": 1}"}'];
export const HOSTILE_TEXTS = [...KINDS, KINDS.join(' | ')];
