import { describe, expect, it } from 'vitest';
import { compareStreamIds } from './stream-id.js';

describe('compareStreamIds', () => {
  it('orders by milliseconds, then sequence, numerically not lexically', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-10', '10-10')).toBe(0);
    expect(compareStreamIds('11-0', '10-99')).toBeGreaterThan(0);
  });
});
