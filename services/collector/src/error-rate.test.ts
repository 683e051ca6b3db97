import { describe, expect, it } from 'vitest';
import { errorRatePercent, SlidingCounter } from './error-rate.js';

describe('error rate', () => {
  it('sums a cumulative counter increments over the window, the first reading as baseline', () => {
    const c = new SlidingCounter(60_000);
    c.observe(0, 1000);
    c.observe(1000, 1010);
    c.observe(2000, 1030);
    expect(c.sum(2000)).toBe(30);
    expect(c.sum(61_000)).toBe(20);
    expect(c.sum(62_000)).toBe(0);
  });
  it('ignores a counter that goes back (Redis restarted) instead of counting negative', () => {
    const c = new SlidingCounter(60_000);
    c.observe(0, 500);
    c.observe(1000, 3);
    c.observe(2000, 8);
    expect(c.sum(2000)).toBe(5);
  });
  it('is errors over operations in percent, capped at 100, undefined when nothing happened', () => {
    expect(errorRatePercent(5, 100)).toBe(5);
    expect(errorRatePercent(0, 100)).toBe(0);
    expect(errorRatePercent(3, 1)).toBe(100);
    expect(errorRatePercent(0, 0)).toBeUndefined();
  });
});
