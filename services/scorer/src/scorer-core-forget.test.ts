import { emptyCatalogue, type StrategySample } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { DEFAULT_METRICS_OPTIONS } from './metrics/index.js';
import { ScorerCore } from './scorer-core.js';

const T0 = 1_700_000_000_000;
const sample = (strategy: string, i: number, r = 0.01): StrategySample => ({
  strategy,
  ts: T0 + i * 1000,
  return: r,
  receivedAt: T0 + i * 1000,
});

describe('ScorerCore forgetting', () => {
  it('lists as idle the strategies whose last sample was received before the cutoff, with its ts', () => {
    const core = new ScorerCore(DEFAULT_METRICS_OPTIONS);
    core.apply('1-0', sample('old', 0), 0);
    core.apply('2-0', sample('new', 10), 0);
    expect(core.idleBefore(T0 + 5000)).toEqual([{ strategy: 'old', lastTs: T0 }]);
    expect(core.idleBefore(T0)).toEqual([]);
  });

  it('starts a forgotten strategy that comes back with an empty window', () => {
    const core = new ScorerCore({ ...DEFAULT_METRICS_OPTIONS, window: 50 });
    for (let i = 0; i < 10; i++) core.apply(`${i + 1}-0`, sample('back', i), 0);
    expect(core.forget('back')).toBe(true);
    expect(core.strategyCount).toBe(0);
    expect(core.forget('back')).toBe(false);
    expect(core.apply('20-0', sample('back', 20), 0)?.count).toBe(1);
  });

  it('drops a forgotten strategy from the catalogue memo (churned ids must not pile up there)', () => {
    const catalogue = emptyCatalogue(DEFAULT_METRICS_OPTIONS);
    const core = new ScorerCore(DEFAULT_METRICS_OPTIONS, catalogue);
    for (let k = 0; k < 100; k++) core.apply(`${k + 1}-0`, sample(`churn-${k}`, k), 0);
    expect(catalogue.memo.size).toBe(100);
    for (let k = 0; k < 100; k++) core.forget(`churn-${k}`);
    expect(catalogue.memo.size).toBe(0);
  });

  it('treats a redelivered old entry of a forgotten strategy as a duplicate, not a new window', () => {
    const core = new ScorerCore(DEFAULT_METRICS_OPTIONS);
    core.apply('5-0', sample('a', 0), 0);
    core.apply('6-0', sample('b', 1), 0);
    core.forget('a');
    const res = core.applyBatch([{ id: '5-0', value: sample('a', 0) }], 0);
    expect(res).toEqual({ updates: [], duplicates: 1 });
    expect(core.strategyCount).toBe(1);
    expect(core.apply('7-0', sample('a', 2), 0)?.count).toBe(1);
  });

  it('reports the oldest stream entry its windows hold: what time retention must keep for a replay', () => {
    const core = new ScorerCore({ ...DEFAULT_METRICS_OPTIONS, window: 3 });
    expect(core.oldestHeldEntryMs()).toBeNull();
    // 'daily' keeps its last 3 samples; 'fast' moves on.
    for (let i = 0; i < 5; i++) core.apply(`${100 + i}-0`, sample('daily', i), 0);
    expect(core.oldestHeldEntryMs()).toBe(102);
    for (let i = 0; i < 5; i++) core.apply(`${200 + i}-1`, sample('fast', 10 + i), 0);
    expect(core.oldestHeldEntryMs()).toBe(102);
    core.forget('daily');
    expect(core.oldestHeldEntryMs()).toBe(202);
    core.forget('fast');
    expect(core.oldestHeldEntryMs()).toBeNull();
  });
});
