import { describe, expect, it } from 'vitest';
import { highestDiskUse, usePercent } from './disk-usage.js';

describe('disk usage', () => {
  it('computes use as df does: used / (used + available to users)', () => {
    // 100 blocks, 40 free of which 30 available (10 reserved for root): 60 / 90.
    expect(usePercent({ blocks: 100, bfree: 40, bavail: 30 })).toBeCloseTo((60 / 90) * 100, 12);
  });
  it('reads a real mount with statfs and skips mounts that do not exist', async () => {
    const v = await highestDiskUse(['/', '/no/such/mount']);
    expect(v).toBeGreaterThanOrEqual(0);
    expect(v).toBeLessThanOrEqual(100);
    expect(await highestDiskUse(['/no/such/mount'])).toBeUndefined();
  });
});
