// Log sequence numbers as bigints. Postgres prints them as two hex halves, 'X/Y', in several paddings
// ('16/B374D848', '00000016/B374D848'); strings never compare correctly, bigints do.

export type Lsn = bigint;

export function parseLsn(text: string): Lsn {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new Error(`not an LSN: '${text}' (expected two hex numbers such as 16/B374D848)`);
  return (BigInt('0x' + m[1]) << 32n) | BigInt('0x' + m[2]);
}

/** Postgres' own spelling: upper-case hex halves without padding. */
export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
