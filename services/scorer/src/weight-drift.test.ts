import { describe, expect, it } from 'vitest';
import { weightDrift } from './weight-drift.js';

describe('weightDrift', () => {
  it('is the largest absolute gap, counting assets missing on one side as 0', () => {
    expect(weightDrift({ A: 0.5, B: 0.5 }, { A: 0.6, B: 0.3, C: 0.1 })).toBeCloseTo(0.2, 12);
  });
  it('is null without both maps', () => {
    expect(weightDrift({ A: 1 }, undefined)).toBeNull();
    expect(weightDrift(undefined, { A: 1 })).toBeNull();
  });
});
