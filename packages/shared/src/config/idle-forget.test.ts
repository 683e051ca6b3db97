import { describe, expect, it } from 'vitest';
import { loadScorerConfig } from './scorer.js';
import { idleSweepIntervalMs } from './idle-forget.js';

describe('IDLE_FORGET_AFTER', () => {
  const load = (v?: string) =>
    loadScorerConfig(v === undefined ? {} : { IDLE_FORGET_AFTER: v }).idleForgetAfterMs;

  it('defaults to 7 days and reads seconds to days; 0 and off never forget', () => {
    expect(load()).toBe(7 * 86_400_000);
    expect(load('30s')).toBe(30_000);
    expect(load('12h')).toBe(12 * 3_600_000);
    expect(load('1500ms')).toBe(1500);
    expect(load('0')).toBe(0);
    expect(load('off')).toBe(0);
  });

  it('refuses what is not a duration of at least 1 s, naming the variable', () => {
    for (const bad of ['7', '500ms', '1w', '-1d', 'soon']) {
      expect(() => load(bad)).toThrow(/IDLE_FORGET_AFTER: a duration of at least 1s/);
    }
  });

  it('sweeps every tenth of the limit, between 1 s and 1 min', () => {
    expect(idleSweepIntervalMs(4000)).toBe(1000);
    expect(idleSweepIntervalMs(300_000)).toBe(30_000);
    expect(idleSweepIntervalMs(7 * 86_400_000)).toBe(60_000);
  });
});
