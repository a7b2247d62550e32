// Changes that make no new version: mutations. A lightweight DELETE masks rows (Langfuse deletes traces and
// applies retention this way), an ALTER … UPDATE rewrites them in place with their version unchanged (Langfuse
// v4 flips bookmarked/public so). Neither gives a part new block numbers, so part-plan.ts cannot see them;
// system.mutations lists each finished one with its command and version. Pure.
import { scan, splitTopLevel, unwrap } from './sql-text.ts';

export interface MutationInfo {
  id: string;
  /** the mutation's version: the block number it took (greater than every block it applies to) */
  version: bigint;
  /** as system.mutations shows it, e.g. `(UPDATE _row_exists = 0 WHERE (project_id = 'p') AND (id = 'b'))` */
  command: string;
  /** when it was created (the server's clock, whole seconds), µs */
  createdUs: bigint;
}

/** What a poll does about one finished mutation. */
export type MutationStep =
  /** rows masked by a lightweight DELETE that matched `where`: read with the mask off, each a delete */
  | { kind: 'masked'; id: string; version: bigint; where: string }
  /** rows an ALTER UPDATE changed: those matching `where` are read again, as updates at the mutation's version */
  | { kind: 'updated'; id: string; version: bigint; where: string }
  /** rows removed without leaving a mask (ALTER … DELETE): only the predicate tells which */
  | { kind: 'deleted'; id: string; version: bigint; where: string };

/** Splits a command at its top-level ` WHERE ` (not one inside a literal or parentheses). */
function splitWhere(command: string): [string, string] | null {
  const i = scan(command, (j, depth) => depth === 0 && command.startsWith(' WHERE ', j));
  return i < 0 ? null : [command.slice(0, i), command.slice(i + 7)];
}

/** The steps of one mutation (a mutation may hold several commands). */
export function mutationSteps(m: MutationInfo): MutationStep[] {
  const steps: MutationStep[] = [];
  for (const raw of splitTopLevel(m.command)) {
    const cmd = unwrap(raw);
    const parts = splitWhere(cmd);
    const head = parts?.[0].trim() ?? cmd;
    const where = parts?.[1].trim();
    if (where && /^UPDATE\s+_row_exists\s*=\s*0$/i.test(head)) steps.push({ kind: 'masked', id: m.id, version: m.version, where });
    else if (where && /^UPDATE\s/i.test(head)) steps.push({ kind: 'updated', id: m.id, version: m.version, where });
    else if (where && /^DELETE$/i.test(head)) steps.push({ kind: 'deleted', id: m.id, version: m.version, where });
    // other commands (MATERIALIZE …, APPLY DELETED MASK, column changes) change no row's values
  }
  return steps;
}

/** Finished mutations not handled yet, oldest first. */
export function newMutations(finished: MutationInfo[], handled: ReadonlySet<string>): MutationInfo[] {
  return finished.filter((m) => !handled.has(m.id)).sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}
