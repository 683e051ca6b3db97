import { describe, expect, it } from 'vitest';
import { entryMs, HeldEntries } from './held-entries.js';

describe('HeldEntries', () => {
  it('keeps the latest cap stream times, the oldest first out', () => {
    const h = new HeldEntries(5);
    expect(h.oldest()).toBeUndefined();
    for (let ms = 1; ms <= 3; ms++) h.push(ms);
    expect([h.oldest(), h.length]).toEqual([1, 3]);
    for (let ms = 4; ms <= 12; ms++) h.push(ms);
    expect([h.oldest(), h.length]).toEqual([8, 5]);
  });

  it('grows with what it holds, across wrap-arounds', () => {
    const h = new HeldEntries(1000);
    for (let ms = 0; ms < 2500; ms++) {
      h.push(ms);
      expect(h.oldest()).toBe(Math.max(0, ms - 999));
    }
    const one = new HeldEntries(1);
    one.push(7);
    one.push(9);
    expect([one.oldest(), one.length]).toEqual([9, 1]);
  });

  it('reads the time of an entry id', () => {
    expect(entryMs('1767571200000-42')).toBe(1_767_571_200_000);
    expect(entryMs('5-0')).toBe(5);
  });
});
