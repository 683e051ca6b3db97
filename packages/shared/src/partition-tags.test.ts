import { describe, expect, it } from 'vitest';
import { crc16, keySlot } from './cluster-slot.js';
import { partitionTag } from './partition-tags.js';

describe('cluster slots and partition tags', () => {
  it('computes slots as CLUSTER KEYSLOT does', () => {
    expect(crc16('123456789')).toBe(0x31c3); // the CRC16/XMODEM check value
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}')); // empty tag: whole key
  });

  it('spreads partitions evenly over masters that split the slots evenly', () => {
    for (const P of [4, 8, 12, 16, 24, 64, 100, 128, 256]) {
      for (const M of [3, 4, 6, 12]) {
        const per = new Array<number>(M).fill(0);
        for (let p = 0; p < P; p++) {
          const slot = keySlot(`quantmon:{${partitionTag(p)}}:stream:scores`);
          per[Math.min(M - 1, Math.floor((slot * M) / 16384))]!++;
        }
        // P a power of two: as even as P/M allows. Otherwise roughly (vs +-25 % for plain {p<n>} tags).
        const even = Math.ceil(P / M) - Math.floor(P / M);
        const powerOfTwo = (P & (P - 1)) === 0;
        expect(Math.max(...per) - Math.min(...per), `P=${P} M=${M}: ${per}`).toBeLessThanOrEqual(
          powerOfTwo ? even : Math.max(3, Math.ceil((P / M) * 0.15)),
        );
      }
    }
  });

  it('is stable: the stored key layout depends on it', () => {
    expect([0, 1, 2, 3].map(partitionTag)).toMatchInlineSnapshot(`
      [
        "p0-1329",
        "p1-684",
        "p2-2531",
        "p3-1380",
      ]
    `);
  });
});
