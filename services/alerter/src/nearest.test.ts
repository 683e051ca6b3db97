import { describe, expect, it } from 'vitest';
import { editDistance, nearest } from './nearest.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['var_exceded', 'var_exceeded', 1],
    ['flaw', 'lawn', 2],
    ['same', 'same', 0],
  ])('%s -> %s is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('nearest', () => {
  const names = ['var_exceeded', 'volatility_spike', 'cpu_high', 'memory_high'];

  it('suggests the closest name within three edits', () => {
    expect(nearest('var_exceded', names)).toBe('var_exceeded');
    expect(nearest('cpu_hgh', names)).toBe('cpu_high');
    expect(nearest('memroy_high', names)).toBe('memory_high');
  });

  it('suggests nothing further than the limit, or for an exact match', () => {
    expect(nearest('loss_stop', names)).toBeUndefined();
    expect(nearest('cpu_high', names)).toBeUndefined();
    expect(nearest('cpu_hg', names, 1)).toBeUndefined();
  });

  it('prefers the first of equally near candidates', () => {
    expect(nearest('ab', ['ax', 'ay'])).toBe('ax');
  });
});
