// SQL names for Databricks SQL / Spark SQL. (Row values never become SQL text: MERGE statements carry them
// as JSON in a raw literal, sink/src/plan/merge-plan.ts.)
import { TracelakeError } from '../../../schemas/src/errors.ts';

/**
 * A back-quoted identifier (table, column); backticks inside are doubled. A name holding `${` is refused: the
 * engine substitutes `${…}` in the statement text before parsing, backticks or not, and no escape avoids it.
 */
export function sqlIdent(name: string): string {
  if (name.includes('${')) {
    throw new TracelakeError(`the name ${JSON.stringify(name)} holds "\${", which Spark and Databricks replace in statement text before parsing`, {
      code: 'UNSUPPORTED_NAME', remedy: 'rename the column or table at the source, or give the table another Delta name (tables["schema.table"].name)',
    });
  }
  return '`' + name.replace(/`/g, '``') + '`';
}
