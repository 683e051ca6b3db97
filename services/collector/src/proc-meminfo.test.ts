import { describe, expect, it } from 'vitest';
import { memoryPercent } from './proc-meminfo.js';

describe('memoryPercent', () => {
  it('counts memory not available to new allocations as used', () => {
    const text = 'MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    250 kB\n';
    expect(memoryPercent(text)).toBeCloseTo(75, 12);
  });
  it('answers undefined without MemAvailable or with nonsense', () => {
    expect(memoryPercent('MemTotal: 1000 kB\n')).toBeUndefined();
    expect(memoryPercent('MemTotal: 0 kB\nMemAvailable: 0 kB\n')).toBeUndefined();
  });
});
