// What the object-storage source has taken, kept in the state topic: each export unit (a Langfuse manifest, a
// LangSmith file) by key with the entity tag it had, and each file it could not read (dead-lettered) with the
// reason. A unit whose tag changes (the object was rewritten) is taken again; entries of objects the listing no
// longer shows (a lifecycle rule deleted them) are dropped, so the state stays as large as the prefix. Pure.

export interface RejectedFile {
  /** the unit the file belongs to */
  unit: string;
  /** the table its rows were for (manifests: "manifests") */
  table: string;
  code: string;
  error: string;
  at: string;
}

export interface ExportState {
  /** unit key → entity tag when taken */
  taken: Record<string, string>;
  /** file key → why it was dead-lettered */
  rejected: Record<string, RejectedFile>;
}

export const emptyExportState = (): ExportState => ({ taken: {}, rejected: {} });

/** The units of a listing not taken yet (or rewritten since), in order. */
export function pendingUnits<U extends { key: string; etag: string }>(units: U[], state: ExportState): U[] {
  return units.filter((u) => state.taken[u.key] !== u.etag);
}

/** The state with `unit` taken. */
export function takeUnit(state: ExportState, unit: { key: string; etag: string }, rejected: Record<string, RejectedFile> = {}): ExportState {
  return { taken: { ...state.taken, [unit.key]: unit.etag }, rejected: { ...state.rejected, ...rejected } };
}

/** The state without entries for objects the listing no longer has. */
export function pruneToListing(state: ExportState, listed: Set<string>): ExportState {
  const taken = Object.fromEntries(Object.entries(state.taken).filter(([k]) => listed.has(k)));
  const rejected = Object.fromEntries(Object.entries(state.rejected).filter(([k, r]) => listed.has(k) || listed.has(r.unit)));
  return { taken, rejected };
}
