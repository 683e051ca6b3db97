import { CLUSTER_SLOTS, keySlot } from './cluster-slot.js';

/** Van der Corput (base 2) of n: 0, 1/2, 1/4, 3/4, 1/8, 5/8, ... */
function vanDerCorput(n: number): number {
  let x = 0;
  let f = 0.5;
  for (let i = n; i > 0; i >>= 1, f /= 2) if (i & 1) x += f;
  return x;
}

/**
 * A tag lands 1 to 7 slots past its point: strictly inside the cell that
 * starts there, even for P = 1024 (16-slot cells), so an even split of the
 * slots whose boundary falls exactly on the point (4 masters: 4096, 8192,
 * ...) counts it on the right side. About 2,300 tries per tag, once per
 * process (cached).
 */
const OFFSET = 4;
const SLACK = 3;
const tags = new Map<number, string>();

/**
 * The hash tag of partition p. Plain `p3` tags land where CRC16 puts them:
 * with `redis-cli --cluster create`'s even slot split, {p0}..{p7} fell 2/2/4
 * over three masters, so one master did half the work. Instead partition p
 * gets `p<p>-<k>`, the first k whose slot is just past
 * vanDerCorput(p) x 16384: the first P partitions then sit in P evenly
 * spaced places of the slot space, for any P, so any even split of the
 * slots over M masters gives each master P/M partitions (within one).
 * Deterministic: every process computes the same tag. Part of the stored
 * key layout: never change it.
 */
export function partitionTag(p: number): string {
  let tag = tags.get(p);
  if (tag === undefined) {
    const target = Math.floor(vanDerCorput(p) * CLUSTER_SLOTS) + OFFSET;
    for (let k = 0; ; k++) {
      const candidate = `p${p}-${k}`;
      if (Math.abs(keySlot(`{${candidate}}`) - target) <= SLACK) {
        tag = candidate;
        break;
      }
    }
    tags.set(p, tag);
  }
  return tag;
}
