import { describe, expect, it } from 'vitest';
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
});
