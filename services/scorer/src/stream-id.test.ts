import { describe, expect, it } from 'vitest';
import { entryMs } from './held-entries.js';
import { compareStreamIds, digitsOf } from './stream-id.js';

describe('compareStreamIds', () => {
  it('orders by milliseconds, then sequence, numerically not lexically', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-10', '10-10')).toBe(0);
    expect(compareStreamIds('11-0', '10-99')).toBeGreaterThan(0);
  });
});

describe('compareStreamIds against a reference', () => {
  const ref = (a: string, b: string): number => {
    const [am = '0', as = '0'] = a.split('-');
    const [bm = '0', bs = '0'] = b.split('-');
    return Math.sign(Number(am) - Number(bm) || Number(as) - Number(bs));
  };

  it('treats a missing sequence as 0', () => {
    expect(compareStreamIds('5', '5-0')).toBe(0);
    expect(compareStreamIds('5-1', '5')).toBeGreaterThan(0);
  });

  it('agrees in sign with a split-based reference on many pairs', () => {
    const ids = [
      '0-0',
      '1-0',
      '9-9',
      '10-0',
      '1767225600000-0',
      '1767225600000-12',
      '1767225600001-3',
      '5',
    ];
    let x = 7;
    for (let i = 0; i < 2000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      ids.push(`${1767225600000 + (x % 50)}-${x % 13}`);
    }
    for (let i = 0; i < ids.length - 1; i++) {
      const a = ids[i]!;
      const b = ids[i + 1]!;
      expect(Math.sign(compareStreamIds(a, b)), `${a} vs ${b}`).toBe(ref(a, b));
      expect(Math.sign(compareStreamIds(b, a))).toBe(ref(b, a));
    }
  });
});

describe('the digits of a stream id, read in place (digitsOf, entryMs)', () => {
  it("reads what Number() reads of the same slice, exactly up to a stream id's size", () => {
    const id = '1767225600123-45';
    expect(digitsOf(id, 0, 13)).toBe(1_767_225_600_123);
    expect(digitsOf(id, 14, id.length)).toBe(45);
    expect(digitsOf(id, 3, 3)).toBe(0); // empty, as Number('')
    expect(digitsOf('12a4', 0, 4)).toBeNaN();
    expect(digitsOf('9007199254740991', 0, 16)).toBe(Number.MAX_SAFE_INTEGER);
    expect(entryMs(id)).toBe(1_767_225_600_123);
    expect(entryMs('1767225600124')).toBe(1_767_225_600_124);
  });
});
