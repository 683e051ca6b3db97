import { describe, expect, it } from 'vitest';
import { batchWriteOrder } from './publish-samples.js';

const at = (strategy: string, ts: number) => ({ strategy, ts });

describe('batchWriteOrder', () => {
  it('keeps a batch whose strategies each go forward in time as it came', () => {
    const batch = [at('a', 1), at('b', 5), at('a', 1), at('b', 6), at('a', 2)];
    expect(batchWriteOrder(batch)).toEqual({ order: [0, 1, 2, 3, 4], reordered: 0 });
  });

  it("sorts a strategy's samples by ts within the slots it occupies, stable for equal ts", () => {
    // a: slots 0, 2, 4 with ts 3, 1, 1 -> the two ts-1 samples (2, 4) in their order, then 0.
    const batch = [at('a', 3), at('b', 9), at('a', 1), at('b', 10), at('a', 1)];
    expect(batchWriteOrder(batch)).toEqual({ order: [2, 1, 4, 3, 0], reordered: 3 });
  });

  it('leaves strategies in order alone when another is out of order', () => {
    const batch = [at('a', 1), at('b', 7), at('a', 2), at('b', 6)];
    expect(batchWriteOrder(batch)).toEqual({ order: [0, 3, 2, 1], reordered: 2 });
  });

  it('answers an empty batch and a lone sample', () => {
    expect(batchWriteOrder([])).toEqual({ order: [], reordered: 0 });
    expect(batchWriteOrder([at('a', 1)])).toEqual({ order: [0], reordered: 0 });
  });
});
