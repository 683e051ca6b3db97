import type { ScoreUpdate, SystemSample } from '@quantmon/shared';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { scoreUpdate } from '../../../test/helpers/gateway-fixtures.js';
import { firstByKey, registerSeriesGauges } from './series-gauges.js';

describe('firstByKey', () => {
  it('keeps the first N by key, whatever the insertion order', () => {
    const m = new Map([
      ['c', 3],
      ['a', 1],
      ['b', 2],
    ]);
    expect(firstByKey(m, 2)).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(firstByKey(m, 0)).toEqual([]);
  });
});

describe('registerSeriesGauges', () => {
  const source = (strategies: string[], hosts: string[]) => ({
    scores: new Map<string, ScoreUpdate>(strategies.map((s, i) => [s, scoreUpdate(s, i)])),
    system: new Map<string, SystemSample>(hosts.map((h) => [h, { host: h, ts: 1, cpu: 42 }])),
  });

  it('exports nothing when off (0)', async () => {
    const registry = new Registry();
    registerSeriesGauges(registry, source(['a'], ['h']), 0);
    expect(await registry.metrics()).toBe('\n');
  });

  it('caps the strategies and hosts exported and says how many it left out', async () => {
    const registry = new Registry();
    registerSeriesGauges(registry, source(['s3', 's1', 's2'], ['h2', 'h1']), 2);
    const text = await registry.metrics();
    expect(text).toContain('quantmon_strategy_score{strategy="s1",score="performance"}');
    expect(text).toContain('quantmon_strategy_score{strategy="s2",score="risk"}');
    expect(text).not.toContain('strategy="s3"');
    expect(text).toContain('quantmon_series_omitted{kind="strategy"} 1');
    expect(text).toContain('quantmon_series_omitted{kind="host"} 0');
    expect(text).toContain('quantmon_host_cpu_percent{host="h1"} 42');
    expect(text).not.toContain('quantmon_host_memory_percent{'); // not measured: absent
  });
});
