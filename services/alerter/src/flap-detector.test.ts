import { describe, expect, it } from 'vitest';
import { DEFAULT_FLAP, FlapDetector, flapShare } from './flap-detector.js';

describe('flap detection', () => {
  it('weighs state changes as Nagios does: 0.75 for the oldest, 1.25 for the newest', () => {
    expect(flapShare(0, 21)).toBe(0);
    // Alternating on every one of 21 checks: every change counted, mean weight 1.
    expect(flapShare(0b101010101010101010101, 21)).toBeCloseTo(1, 10);
    expect(flapShare(0b1, 21)).toBeCloseTo(1.25 / 20, 10); // the newest change
    expect(flapShare(0b100000000000000000000, 21)).toBeCloseTo(0.75 / 20, 10); // the oldest
  });

  it('marks flapping at the high threshold and clears the mark only at the low one', () => {
    const d = new FlapDetector();
    const seen: boolean[] = [];
    // bad, good, bad, good: the share climbs by about 0.06 a change.
    for (let i = 0; i < 6; i++) seen.push(d.record('k', i % 2 === 0, DEFAULT_FLAP, i).flapping);
    expect(seen).toEqual([false, false, false, true, true, true]);
    // Steady bad: the share falls as the changes age, the mark holds down to 5 %.
    let settledAfter = 0;
    for (let i = 1; i <= 21 && d.record('k', true, DEFAULT_FLAP, 100 + i).flapping; i++)
      settledAfter = i;
    expect(settledAfter).toBeGreaterThan(10);
    expect(settledAfter).toBeLessThan(21);
  });

  it('counts a redelivered check once', () => {
    const d = new FlapDetector();
    for (let i = 0; i < 4; i++) d.record('k', i % 2 === 0, DEFAULT_FLAP, i);
    const before = d.record('k', false, DEFAULT_FLAP, 4);
    // The same entry again, and an older one: no new check.
    expect(d.record('k', false, DEFAULT_FLAP, 4)).toEqual(before);
    expect(d.record('k', true, DEFAULT_FLAP, 2)).toEqual(before);
  });

  it('forgets a key that is good on every check and not flapping', () => {
    const d = new FlapDetector();
    d.record('k', true, DEFAULT_FLAP, 0);
    expect(d.size).toBe(1);
    for (let i = 1; i <= 21; i++) d.record('k', false, DEFAULT_FLAP, i);
    expect(d.size).toBe(0);
  });

  it('keeps a restored mark until the history settles, and does nothing when off', () => {
    const d = new FlapDetector();
    expect(d.record('k', true, DEFAULT_FLAP, 0, true).flapping).toBe(true);
    expect(d.record('off', true, { checks: 0, high: 1, low: 0 }, 0, true)).toEqual({
      flapping: false,
      share: 0,
    });
  });
});
