// A platform's curated views, built from whichever of its tables are mirrored.

export interface ViewSet {
  /** tables without which no view is created */
  required: string[];
  /** tables joined when present (the views are recreated when one appears) */
  optional: string[];
  /** view name → SELECT, in creation order; `t` qualifies a table or view name */
  views(t: (name: string) => string, present: Set<string>): Record<string, string>;
}
