import { describe, expect, it } from 'vitest';
import { loadScorerConfig } from './scorer.js';
import { retentionTrimIntervalMs } from './stream-retention.js';

describe('STREAM_RETENTION', () => {
  const load = (v?: string) =>
    loadScorerConfig(v === undefined ? {} : { STREAM_RETENTION: v }).streamRetentionMs;

  it('defaults to a day and reads seconds to days; 0 and off trim by length only', () => {
    expect(load()).toBe(86_400_000);
    expect(load('30m')).toBe(1_800_000);
    expect(load('6h')).toBe(6 * 3_600_000);
    expect(load('45s')).toBe(45_000);
    expect(load('0')).toBe(0);
    expect(load('off')).toBe(0);
  });

  it('refuses what is not a duration of at least 1 s, naming the variable', () => {
    for (const bad of ['6', '999ms', '0s', '1w', '-1h', 'forever']) {
      expect(() => load(bad)).toThrow(/STREAM_RETENTION: a duration of at least 1s/);
    }
  });

  it('trims every twentieth of the retention, between 1 s and 1 min', () => {
    expect(retentionTrimIntervalMs(10_000)).toBe(1000);
    expect(retentionTrimIntervalMs(300_000)).toBe(15_000);
    expect(retentionTrimIntervalMs(86_400_000)).toBe(60_000);
  });
});
