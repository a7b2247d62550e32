// Log sequence numbers as bigints. Postgres prints them as two hex halves, 'X/Y', in several paddings
// ('16/B374D848', '00000016/B374D848'); strings never compare correctly, bigints do.

export type Lsn = bigint;

const LSN_RE = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function parseLsn(text: string): Lsn {
  const m = LSN_RE.exec(text.trim());
  if (!m) throw new Error(`not an LSN: '${text}' (expected two hex numbers such as 16/B374D848)`);
  const high = parseInt(m[1]!, 16);
  const low = parseInt(m[2]!, 16);
  // below 2^53 (8 PiB of WAL) the LSN is exact in a double: one bigint made, not four (one per replication message)
  if (high < 2 ** 21) return BigInt(high * 4_294_967_296 + low);
  return (BigInt(high) << 32n) | BigInt(low);
}

/** Postgres' own spelling: upper-case hex halves without padding. */
export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
