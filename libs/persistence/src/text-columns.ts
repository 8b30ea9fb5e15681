/**
 * Bulk rows as one text parameter per column: the column's values joined by U+001E (record
 * separator), NULL written as U+001F (unit separator), split again in SQL by
 * `unnest(string_to_array($n, E'\x1e', E'\x1f'), …)`.
 *
 * A batch of 500 rows as 500 × k bind parameters costs pg a serialisation per value and Postgres
 * a bind per value; as one JSON document it costs an escape of every nested JSON text and a parse
 * of the whole document into jsonb. Joined columns cost a join in Node and a split in Postgres.
 * It takes values that never contain the two separators: JSON texts (which escape every control
 * character), UUIDs, hashes, codes. `textColumns` answers undefined when one does (or when a
 * single row's value is empty, which Postgres would split into no value), and the caller writes
 * that batch another way.
 */
const RECORD = '\u001e';
const NULL = '\u001f';

/** SQL splitting parameter `$n` back into its values (text; cast as needed). */
export function splitColumn(param: number): string {
  return `string_to_array($${param}, E'\\x1e', E'\\x1f')`;
}

/** The columns of `rows`, each as one text parameter; undefined if a value holds a separator. */
export function textColumns<T>(rows: readonly T[], columns: readonly ((row: T) => string | number | null | undefined)[]): string[] | undefined {
  const out: string[] = [];
  for (const column of columns) {
    const values: string[] = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const v = column(rows[i]);
      if (v === null || v === undefined) {
        values[i] = NULL;
        continue;
      }
      const text = typeof v === 'number' ? String(v) : v;
      if (text.includes(RECORD) || text.includes(NULL)) return undefined;
      values[i] = text;
    }
    const joined = values.join(RECORD);
    // string_to_array('') is an empty array, not one empty value.
    if (joined === '' && rows.length > 0) return undefined;
    out.push(joined);
  }
  return out;
}

/**
 * What `string_to_array(text, E'\x1e', E'\x1f')` makes of a joined column (for tests and for
 * reading the format): its values, NULL for U+001F.
 */
export function splitTextColumn(joined: string): (string | null)[] {
  if (joined === '') return [];
  return joined.split(RECORD).map((v) => (v === NULL ? null : v));
}
