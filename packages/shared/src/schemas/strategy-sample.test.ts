import { describe, expect, it } from 'vitest';
import { fastStrategySampleInput } from '../fast-guards.js';
import { sampleIssues } from '../publish-samples.js';
import { MAX_SAMPLE_TS } from './common.js';
import { StrategySampleInput } from './strategy-sample.js';

describe('StrategySampleInput', () => {
  it('normalises an ISO timestamp to epoch ms', () => {
    const s = StrategySampleInput.parse({
      strategy: 'a',
      ts: '2026-01-02T03:04:05.000Z',
      return: 0,
    });
    expect(s.ts).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
  });

  it('rejects non-finite numbers, unknown fields and unsafe ids', () => {
    expect(StrategySampleInput.safeParse({ strategy: 'a', ts: 1, return: Infinity }).success).toBe(
      false,
    );
    expect(
      StrategySampleInput.safeParse({ strategy: 'a', ts: 1, return: 0, retrun: 1 }).success,
    ).toBe(false);
    expect(StrategySampleInput.safeParse({ strategy: 'a:b', ts: 1, return: 0 }).success).toBe(
      false,
    );
    expect(
      StrategySampleInput.safeParse({ strategy: 'a', ts: 1, return: 0, weights: { X: NaN } })
        .success,
    ).toBe(false);
  });

  it('refuses a ts in microseconds or nanoseconds, naming the unit, and takes the end of 9999', () => {
    const nowMs = Date.UTC(2026, 11, 4, 8, 30);
    for (const ts of [nowMs * 1000, nowMs * 1_000_000, MAX_SAMPLE_TS + 1]) {
      const sample = { strategy: 'a', ts, return: 0 };
      expect(fastStrategySampleInput(sample)).toBe(false);
      const r = StrategySampleInput.safeParse(sample);
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.path).toEqual(['ts']);
      expect(r.error?.issues[0]?.message).toMatch(/microseconds or nanoseconds/);
      // said once, though a nanosecond value fails two checks
      expect(sampleIssues(r.error!)).toEqual([
        { path: 'ts', message: r.error?.issues[0]?.message },
      ]);
    }
    for (const ts of [nowMs, MAX_SAMPLE_TS, '9999-12-31T23:59:59.999Z']) {
      expect(StrategySampleInput.parse({ strategy: 'a', ts, return: 0 }).ts).toBeLessThanOrEqual(
        MAX_SAMPLE_TS,
      );
    }
    expect(fastStrategySampleInput({ strategy: 'a', ts: MAX_SAMPLE_TS, return: 0 })).toBe(true);
  });
});
