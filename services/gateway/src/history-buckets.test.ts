import { METRIC_NAMES, type ScoreUpdate } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { BucketFold, thin } from './history-buckets.js';

function update(strategy: string, sharpe: number): ScoreUpdate {
  const metrics = Object.fromEntries(METRIC_NAMES.map((m) => [m, null])) as ScoreUpdate['metrics'];
  return {
    strategy,
    id: `${strategy}-${sharpe}`,
    ts: 0,
    sampleEntryId: '0-0',
    count: 1,
    metrics: { ...metrics, sharpeRatio: sharpe },
    scores: { performance: 50, risk: 20, stability: 90 },
    status: { performance: 'GOOD', risk: 'LOW', stability: 'STABLE' },
    weightDrift: null,
    receivedAt: 0,
    computedAt: 0,
  };
}

describe('BucketFold', () => {
  it('counts an entry seen from a stream and from the database once', () => {
    const once = new BucketFold(60_000);
    const twice = new BucketFold(60_000);
    for (const f of [once, twice]) {
      f.addEntry(0, '1000-0', update('a', 1));
      f.addEntry(0, '2000-0', update('a', 3));
    }
    twice.addEntry(0, '1000-0', update('a', 1));
    expect(twice.points()).toEqual(once.points());
    expect(once.points()[0]!.max!['sharpeRatio']).toBe(3);
  });

  it('merges a stored rollup with stream entries of the same bucket', () => {
    const f = new BucketFold(300_000);
    f.addRollup({
      last_at: 59_000,
      last_part: 0,
      last_seq: 0,
      last: update('a', 2),
      min: { sharpeRatio: -1 },
      max: { sharpeRatio: 2 },
    });
    f.addEntry(0, '70000-0', update('a', 5)); // newer, same 5-minute bucket
    const [p] = f.points();
    expect(p!.bucket).toBe(0);
    expect(p!.pos).toBe('70000-0');
    expect([p!.min!['sharpeRatio'], p!.max!['sharpeRatio']]).toEqual([-1, 5]);
  });
});

describe('thin', () => {
  it('keeps at most limit points, evenly, the newest always', () => {
    const xs = Array.from({ length: 10 }, (_, i) => i);
    expect(thin(xs, 4)).toEqual({ points: [0, 2, 5, 9], thinned: true });
    expect(thin(xs, 20)).toEqual({ points: xs, thinned: false });
  });
});
