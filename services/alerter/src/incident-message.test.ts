import { describe, expect, it } from 'vitest';
import { fmt, fmtAgainst } from './incident.js';

describe('an incident message’s value beside its threshold', () => {
  it('keeps the short form when it already differs from the threshold', () => {
    expect(fmtAgainst(0.39951234, 0.25)).toBe(fmt(0.39951234));
    expect(fmtAgainst(0.1318, 0.1)).toBe('0.1318');
    expect(fmtAgainst(60, 60)).toBe('60');
  });

  it('adds the digits that tell a crossing value from its threshold', () => {
    // A lag that had grown for 60.002 s against a threshold of 60: "60 > 60" before.
    expect(fmtAgainst(60.002, 60)).toBe('60.002');
    expect(fmtAgainst(0.10000004, 0.1)).toBe('0.10000004');
    expect(fmtAgainst(100.4, 100)).toBe('100.4');
    expect(fmtAgainst(-0.0500001, -0.05)).toBe('-0.0500001');
  });
});
