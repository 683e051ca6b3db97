import { describe, expect, it } from 'vitest';
import { latencies } from './pipeline-latency.js';

describe('latencies: the slowest 1 %', () => {
  // One strategy (7), two frames: sequence 1 computed at 100 (written 101,
  // shown 103) and sequence 3 computed at 140 (written 141, shown 143).
  // Records: strategy, sequence, arrival, receivedAt, computedAt, written.
  const arrivals = [7, 1, 103, 96, 100, 101, 7, 3, 143, 121, 140, 141];

  it('breaks down the samples at or above the p99: one sent before a read it missed', () => {
    // Sends: strategy, sequence, sent at. Sample 2 was sent at 99, before the
    // update computed at 100, but not in it: shown by the next one (44 ms).
    const lat = latencies([7, 1, 95, 7, 2, 99, 7, 3, 120], arrivals);
    expect(lat.ms).toEqual([8, 23, 44]);
    expect(lat.slowest).toEqual({
      n: 1,
      sincePrevious: [-1],
      toScored: [41],
      write: [1],
      deliver: [2],
    });
  });

  it('measures nothing before a strategy’s first frame', () => {
    const lat = latencies([7, 1, 60], arrivals);
    expect(lat.slowest).toEqual({
      n: 1,
      sincePrevious: [],
      toScored: [40],
      write: [1],
      deliver: [2],
    });
  });
});
