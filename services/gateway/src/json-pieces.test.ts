import { describe, expect, it } from 'vitest';
import { jsonPieces } from './json-pieces.js';

const text = (...args: Parameters<typeof jsonPieces>): string => [...jsonPieces(...args)].join('');

describe('jsonPieces', () => {
  const items = Array.from({ length: 500 }, (_, i) => ({
    strategy: `s-${i}`,
    v: i / 7,
    tags: { d: 'x"y' },
  }));

  it('joins to exactly what JSON.stringify gives, key order included', () => {
    const head = { type: 'snapshot', topic: 'strategy:*' };
    const tail = { pos: '1-0', positions: { scores: { '0': '1-0' } } };
    expect(text(head, 'scores', items, tail, 1000)).toBe(
      JSON.stringify({ ...head, scores: items, ...tail }),
    );
  });

  it('handles an empty head, tail and array', () => {
    expect(text({}, 'a', [], {})).toBe('{"a":[]}');
    expect(text({ ts: 1 }, 'a', [], {})).toBe('{"ts":1,"a":[]}');
    expect(text({}, 'a', [1, 2], { b: [] })).toBe('{"a":[1,2],"b":[]}');
  });

  it('writes null for an item with no JSON form, as JSON.stringify does', () => {
    expect(text({}, 'a', [undefined, 1], {})).toBe(JSON.stringify({ a: [undefined, 1] }));
  });

  it('cuts pieces near the size asked for, so no one string holds the whole document', () => {
    const pieces = [...jsonPieces({ ts: 1 }, 'scores', items, {}, 2000)];
    const whole = pieces.join('').length;
    expect(pieces.length).toBeGreaterThan(whole / 2500);
    for (const p of pieces.slice(0, -1)) {
      expect(p.length).toBeGreaterThanOrEqual(2000);
      expect(p.length).toBeLessThan(2200);
    }
  });
});
