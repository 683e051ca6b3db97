import { compileCatalogue, type Catalogue, type StrategySample } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { applyFill, benchmarkIds, benchmarkReturnsToRecord, planFill } from './benchmark-fill.js';

const catalogue = (strategies: Record<string, unknown>, defaults?: unknown): Catalogue =>
  compileCatalogue(defaults === undefined ? { strategies } : ({ strategies, defaults } as never));

const s = (strategy: string, ts: number, r: number, extra: Partial<StrategySample> = {}) =>
  ({ strategy, ts, return: r, receivedAt: 1, ...extra }) as StrategySample;

describe('benchmark fill at ingest', () => {
  const cat = catalogue({ 'eq-*': { benchmark: 'spx' }, 'fx-*': { benchmark: 'dxy' } });

  it('lists the ids the catalogue names as benchmarks, defaults included', () => {
    expect([...benchmarkIds(cat)].sort()).toEqual(['dxy', 'spx']);
    expect([...benchmarkIds(catalogue({ a: {} }, { benchmark: 'agg' }))]).toEqual(['agg']);
    expect(benchmarkIds(catalogue({ a: { periodsPerYear: 12 } })).size).toBe(0);
  });

  it('plans nothing when no entry names a benchmark', () => {
    const plan = planFill([s('eq-a', 1, 0.1)], catalogue({ 'eq-*': { periodsPerYear: 12 } }));
    expect(plan.targets.size).toBe(0);
  });

  it('takes the benchmark return from the same request, whatever the order', () => {
    const req = [s('eq-a', 10, 0.01), s('spx', 10, 0.002), s('eq-b', 20, 0.03)];
    const plan = planFill(req, cat);
    expect([...plan.targets]).toEqual([
      [0, 'spx'],
      [2, 'spx'],
    ]);
    // Period 10 is in the request; period 20 must be looked up.
    expect([...plan.lookups]).toEqual([['spx', [20]]]);
    const filled = applyFill(req, plan, new Map([['spx', new Map([[20, -0.004]])]]));
    expect(filled.map((x) => x.benchmarkReturn)).toEqual([0.002, undefined, -0.004]);
    expect(filled[1]).toBe(req[1]); // untouched samples are the same objects
    expect(req[0]!.benchmarkReturn).toBeUndefined(); // the input is not changed
  });

  it('keeps a posted benchmarkReturn, and leaves a period the benchmark lacks without one', () => {
    const req = [s('eq-a', 10, 0.01, { benchmarkReturn: 0.5 }), s('eq-a', 30, 0.02)];
    const plan = planFill(req, cat);
    expect([...plan.targets]).toEqual([[1, 'spx']]);
    const filled = applyFill(req, plan, new Map([['spx', new Map()]]));
    expect(filled[0]!.benchmarkReturn).toBe(0.5);
    expect(filled[1]!.benchmarkReturn).toBeUndefined();
    expect('benchmarkReturn' in filled[1]!).toBe(false);
  });

  it('never fills a benchmark from itself, nor strategies the catalogue gives none', () => {
    const self = catalogue({ 'spx*': { benchmark: 'spx' } });
    expect(planFill([s('spx', 1, 0.1), s('other', 1, 0.2)], self).targets.size).toBe(0);
  });

  it('records the benchmark returns the stream holds, not the ones it refused', () => {
    const req = [
      s('spx', 1, 0.1),
      s('spx', 2, 0.2),
      s('spx', 3, 0.3),
      s('eq-a', 3, 9),
      s('spx', 0, 1),
    ];
    const rec = benchmarkReturnsToRecord(
      req,
      ['written', 'late', 'duplicate', 'written', 'out-of-order'],
      benchmarkIds(cat),
    );
    expect([...rec]).toEqual([
      [
        'spx',
        [
          [1, 0.1],
          [2, 0.2],
          [3, 0.3],
        ],
      ],
    ]);
  });
});
