import fc from 'fast-check';
import { splitColumn, splitTextColumn, textColumns } from './text-columns';

/** Values a column may hold: text without the two separators, numbers, NULL. */
const aValue = fc.oneof(
  fc.string({ unit: 'binary' }).filter((s) => !s.includes('\u001e') && !s.includes('\u001f')),
  fc.integer(),
  fc.constant(null),
);

describe('textColumns (bulk rows as one joined text parameter per column)', () => {
  it('splits back, as string_to_array(…, E\'\\x1e\', E\'\\x1f\') does, into each column\'s values', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(aValue, aValue), { minLength: 1, maxLength: 20 }), (rows) => {
        const columns = textColumns(rows, [(r) => r[0], (r) => r[1]]);
        if (rows.length === 1 && rows[0].some((v) => v === '')) return expect(columns).toBeUndefined();
        expect(columns).toBeDefined();
        const [a, b] = columns as string[];
        const text = (v: string | number | null) => (v === null ? null : String(v));
        expect(splitTextColumn(a)).toEqual(rows.map((r) => text(r[0])));
        expect(splitTextColumn(b)).toEqual(rows.map((r) => text(r[1])));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a value holding a separator (the caller writes that batch another way)', () => {
    expect(textColumns([{ v: 'a\u001eb' }], [(r) => r.v])).toBeUndefined();
    expect(textColumns([{ v: 'ok' }, { v: '\u001f' }], [(r) => r.v])).toBeUndefined();
  });

  it('refuses a single empty value, which Postgres would split into none', () => {
    expect(textColumns([{ v: '' }], [(r) => r.v])).toBeUndefined();
    expect(textColumns([{ v: '' }, { v: '' }], [(r) => r.v])).toEqual(['\u001e']);
  });

  it('writes the SQL that splits a parameter', () => {
    expect(splitColumn(3)).toBe("string_to_array($3, E'\\x1e', E'\\x1f')");
  });
});
