import { describe, expect, it } from 'vitest';
import { apiResponseTime, ProbeWindow, statusExpected } from './probe-stats.js';

const r = (name: string, seconds: number, ok = true) => ({ name, ok, seconds, ts: 0 });

describe('probe statistics', () => {
  it('expects any 2xx by default, else exactly the listed statuses', () => {
    expect(statusExpected({}, 204)).toBe(true);
    expect(statusExpected({}, 301)).toBe(false);
    expect(statusExpected({ expectStatus: 301 }, 301)).toBe(true);
    expect(statusExpected({ expectStatus: [200, 404] }, 404)).toBe(true);
    expect(statusExpected({ expectStatus: [200, 404] }, 500)).toBe(false);
  });
  it('reports the worst latest time by default and a percentile on request', () => {
    const latest = [r('a', 0.1), r('b', 2.5, false), r('c', 0.3), r('d', 0.2)];
    expect(apiResponseTime(latest, 100)).toBe(2.5);
    expect(apiResponseTime(latest, 50)).toBe(0.2);
    expect(apiResponseTime([], 100)).toBeUndefined();
  });
  it('counts runs and failures of the last window only', () => {
    const w = new ProbeWindow(60_000);
    w.add(1000, true);
    w.add(2000, false);
    w.add(61_500, false);
    expect(w.counts(61_500)).toEqual({ runs: 2, failures: 2 });
    expect(w.counts(62_001)).toEqual({ runs: 1, failures: 1 });
  });
});
