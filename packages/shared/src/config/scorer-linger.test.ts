import { describe, expect, it } from 'vitest';
import { loadScorerConfig } from './scorer.js';

describe('SCORER_LINGER_MS', () => {
  const load = (v?: string) =>
    loadScorerConfig(v === undefined ? {} : { SCORER_LINGER_MS: v }).lingerMs;

  it('defaults to the 40 ms read beat; 0 reads again at once; up to a second', () => {
    expect(load()).toBe(40);
    expect(load('0')).toBe(0);
    expect(load('20')).toBe(20);
    expect(load('1000')).toBe(1000);
  });

  it('refuses what is not a whole number of ms from 0 to 1000, naming the variable', () => {
    for (const bad of ['-1', '1001', '2.5', 'soon']) {
      expect(() => load(bad)).toThrow(/SCORER_LINGER_MS/);
    }
  });
});
