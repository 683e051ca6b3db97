import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then the rate', () => {
    const t = new TokenBucket(10, 3, 0);
    expect([t.take(0), t.take(0), t.take(0), t.take(0)]).toEqual([true, true, true, false]);
    expect(t.take(50)).toBe(false); // half a token
    expect(t.take(100)).toBe(true);
    expect(t.take(100)).toBe(false);
    expect([t.take(10_000), t.take(10_000), t.take(10_000), t.take(10_000)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });
});
