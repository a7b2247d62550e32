// SQL names for Databricks SQL / Spark SQL. (Row values never become SQL text: MERGE statements carry them
// as JSON in a raw literal, sink/src/plan/merge-plan.ts.)

/** A back-quoted identifier (table, column); backticks inside are doubled. */
export function sqlIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}
