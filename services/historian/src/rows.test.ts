import { describe, expect, it } from 'vitest';
import { rollup, type StreamItem } from './rows.js';

/** The rollup fold: order-independent and idempotent, as the merge in PostgreSQL must be. */

interface V {
  s: string;
  x: number;
}
const items: StreamItem<V>[] = [
  { part: 0, id: '60000-0', value: { s: 'a', x: 5 } },
  { part: 1, id: '60000-0', value: { s: 'a', x: -2 } },
  { part: 0, id: '61000-3', value: { s: 'a', x: 7 } },
  { part: 0, id: '61000-12', value: { s: 'a', x: 1 } },
  { part: 0, id: '119999-0', value: { s: 'b', x: 4 } },
  { part: 0, id: '120000-0', value: { s: 'a', x: 9 } },
];
const fold = (xs: StreamItem<V>[]) =>
  rollup(
    xs,
    60_000,
    (v) => v.s,
    (v) => ({ x: v.x }),
  );

describe('rollup', () => {
  it('keeps per subject and bucket the last entry by (time, partition, sequence) and the extremes', () => {
    const rows = fold(items);
    expect(
      rows.map((r) => [r.subject, r.bucket, JSON.parse(r.last).x, r.min['x'], r.max['x']]),
    ).toEqual([
      ['a', 60_000, 1, -2, 7], // 61000-12 is after 61000-3: sequences compare as numbers
      ['a', 120_000, 9, 9, 9],
      ['b', 60_000, 4, 4, 4],
    ]);
  });

  it('gives the same rows whatever the order, and with entries repeated', () => {
    const expected = fold(items);
    const reversed = fold([...items].reverse());
    const twice = fold([...items, ...items.slice(0, 3)]);
    expect(reversed).toEqual(expected);
    expect(twice).toEqual(expected);
  });

  it("widens a bucket's extremes by what a conflated entry's span reached", () => {
    type S = V & { span?: { low: { x: number }; high: { x: number } } };
    const spanned: StreamItem<S>[] = [
      { part: 0, id: '60000-0', value: { s: 'a', x: 5 } },
      {
        part: 0,
        id: '61000-0',
        value: { s: 'a', x: 6, span: { low: { x: -3 }, high: { x: 11 } } },
      },
    ];
    const [row] = rollup(
      spanned,
      60_000,
      (v) => v.s,
      (v) => ({ x: v.x }),
      (v) => v.span,
    );
    expect([row!.min['x'], row!.max['x'], JSON.parse(row!.last).x]).toEqual([-3, 11, 6]);
  });

  it("writes the stream's own JSON as a bucket's last entry when the item carries it", () => {
    const raw = '{"s":"a","x":5}';
    const [row] = fold([{ part: 0, id: '60000-0', value: { s: 'a', x: 5 }, raw }]);
    expect(row!.last).toBe(raw);
  });
});
