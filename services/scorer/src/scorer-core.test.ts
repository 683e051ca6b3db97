import type { StrategySample } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { computeMetrics, DEFAULT_METRICS_OPTIONS } from './metrics/index.js';
import { ScorerCore } from './scorer-core.js';

const sample = (i: number, r: number, extra: Partial<StrategySample> = {}): StrategySample => ({
  strategy: 'alpha',
  ts: 1_700_000_000_000 + i * 1000,
  return: r,
  receivedAt: 1_700_000_000_000 + i * 1000,
  ...extra,
});

describe('ScorerCore', () => {
  it('skips a redelivered entry, so at-least-once delivery counts each sample once', () => {
    const core = new ScorerCore({ ...DEFAULT_METRICS_OPTIONS, window: 100 });
    expect(core.apply('5-0', sample(0, 0.01), 1)).not.toBeNull();
    expect(core.apply('5-0', sample(0, 0.01), 2)).toBeNull();
    expect(core.apply('4-9', sample(1, 0.02), 3)).toBeNull();
    expect(core.apply('6-0', sample(2, -0.01), 4)?.count).toBe(2);
  });

  it('carries the id and ts of the latest sample, or its entry id when it had none', () => {
    const core = new ScorerCore(DEFAULT_METRICS_OPTIONS);
    expect(core.apply('1-0', sample(0, 0.01, { id: 'abc' }), 1)).toMatchObject({
      id: 'abc',
      ts: sample(0, 0).ts,
      sampleEntryId: '1-0',
    });
    expect(core.apply('2-0', sample(1, 0.01), 1)?.id).toBe('2-0');
  });

  it('matches a batch recompute over the window, after a restore replay', () => {
    const returns = Array.from({ length: 50 }, (_, i) => Math.sin(i) / 50);
    const live = new ScorerCore({ ...DEFAULT_METRICS_OPTIONS, window: 20 });
    returns.slice(0, 40).forEach((r, i) => live.restore(`${i + 1}-0`, sample(i, r)));
    let last;
    for (let i = 40; i < 50; i++) last = live.apply(`${i + 1}-0`, sample(i, returns[i]!), 0);
    const batch = computeMetrics(returns.slice(30), undefined, {
      ...DEFAULT_METRICS_OPTIONS,
      window: 20,
    });
    expect(last?.count).toBe(20);
    expect(last?.metrics.sharpeRatio).toBeCloseTo(batch.sharpeRatio, 9);
    expect(last?.metrics.valueAtRisk).toBeCloseTo(batch.valueAtRisk, 12);
    expect(last?.metrics.maxDrawdown).toBeCloseTo(batch.maxDrawdown, 12);
  });

  it('keeps the weight drift of the last sample that had weights and targets', () => {
    const core = new ScorerCore(DEFAULT_METRICS_OPTIONS);
    core.apply(
      '1-0',
      sample(0, 0, { weights: { A: 0.7, B: 0.3 }, targetWeights: { A: 0.5, B: 0.5 } }),
      0,
    );
    expect(core.apply('2-0', sample(1, 0), 0)?.weightDrift).toBeCloseTo(0.2, 12);
  });
});
