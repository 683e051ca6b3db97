import { describe, expect, it } from 'vitest';
import { newestOf, positionsRecord, sinceFor } from './partition-positions.js';

describe('sinceFor', () => {
  it('resumes the single-position form exactly as before with one partition', () => {
    expect(sinceFor('5-0', 1)).toEqual(['5-0']);
    expect(sinceFor({ '0': '5-0' }, 1)).toEqual(['5-0']);
  });

  it('asks for a reset when a single position stands for several partitions', () => {
    expect(sinceFor('5-0', 4)).toBe('partitioned');
  });

  it('takes one position per partition, in partition order', () => {
    expect(sinceFor({ '2': '3-0', '0': '1-0', '1': '2-0' }, 3)).toEqual(['1-0', '2-0', '3-0']);
  });

  it('asks for a reset when a partition is missing or does not exist', () => {
    expect(sinceFor({ '0': '1-0', '2': '3-0' }, 3)).toBe('partitioned');
    expect(sinceFor({ '0': '1-0', '1': '2-0', '7': '3-0' }, 2)).toBe('partitioned');
    expect(sinceFor({}, 1)).toBe('partitioned');
  });

  it('leaves a stream without a position to the snapshot', () => {
    expect(sinceFor(undefined, 4)).toBeUndefined();
  });
});

describe('positions on the wire', () => {
  it('writes one record entry per partition and picks the newest numerically', () => {
    expect(positionsRecord(['1-0', '999-5'])).toEqual({ '0': '1-0', '1': '999-5' });
    expect(newestOf(['999-5', '1000-0', '0-0'])).toBe('1000-0');
    expect(newestOf([])).toBe('0-0');
  });
});
