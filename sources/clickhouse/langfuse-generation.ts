// Which Langfuse generation a ClickHouse database belongs to, and which of its tables carry the traces. Pure:
// it decides from the tables present and how recently each got a part (docs/platforms.md, "Langfuse").
//
// v3 writes traces, observations and scores. v4 writes observations-first rows to events_full (its migrations
// also drop project_environments) and scores; in its `dual` write mode it also keeps writing the v3 tables (and
// stages legacy-API observations in observations_batch_staging) — the same spans twice, so one family is
// captured: events_full. Write modes are not stored anywhere in ClickHouse; they show in what gets written.

export type LangfuseGeneration = 'v3' | 'v4' | 'v4-dual';

export interface TableActivity {
  /** rows in active parts */
  rows: number;
  /** when its newest active part was written, ms since 1970 (0 without parts) */
  lastWriteMs: number;
}

export interface LangfuseCapture {
  generation: LangfuseGeneration;
  tables: string[];
  /** why tables present are not captured */
  skipped: Record<string, string>;
}

/** A v3 table that got a part this recently is being written: in v4, that means the dual write mode. */
const DUAL_WRITE_WINDOW_MS = 24 * 3600_000;

export function langfuseCapture(activity: ReadonlyMap<string, TableActivity>, nowMs: number): LangfuseCapture | null {
  const has = (t: string) => activity.has(t);
  if (has('events_full') && !has('project_environments')) {
    const staging = activity.get('observations_batch_staging');
    const observations = activity.get('observations');
    const dual = (staging?.rows ?? 0) > 0 || (observations !== undefined && nowMs - observations.lastWriteMs < DUAL_WRITE_WINDOW_MS);
    const skipped: Record<string, string> = {};
    for (const t of ['traces', 'observations']) {
      if (has(t)) skipped[t] = dual ? 'v4 dual write: the same spans are in events_full' : 'v4 no longer writes it (events_full holds the spans)';
    }
    if (has('events_core')) skipped.events_core = 'a copy of events_full with input, output and metadata cut to 200 characters';
    return { generation: dual ? 'v4-dual' : 'v4', tables: ['events_full', ...(has('scores') ? ['scores'] : [])], skipped };
  }
  if (has('traces') && has('observations')) {
    return { generation: 'v3', tables: ['traces', 'observations', ...(has('scores') ? ['scores'] : [])], skipped: {} };
  }
  return null;
}
