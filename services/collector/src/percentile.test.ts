import { describe, expect, it } from 'vitest';
import { percentile } from './percentile.js';

describe('percentile (nearest rank)', () => {
  it('answers one of the values; 100 is the maximum', () => {
    const v = [5, 1, 4, 2, 3];
    expect(percentile(v, 100)).toBe(5);
    expect(percentile(v, 50)).toBe(3);
    expect(percentile(v, 1)).toBe(1);
    expect(percentile(v, 80)).toBe(4);
  });
  it('p99 of 100 values is the 99th smallest', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(v, 99)).toBe(99);
  });
  it('is undefined for no values', () => {
    expect(percentile([], 50)).toBeUndefined();
  });
});
