/**
 * POST-to-frame latency for bench:pipeline. A score frame shows a
 * strategy's state up to the sample whose id it carries, so a sample is
 * on the dashboard at the first frame of its strategy whose sequence is at
 * or past the sample's (frames may conflate several samples into one).
 */

/** sends and arrivals: flat [strategy, sequence, epoch ms] triples. */
export function latencies(sends: number[], arrivals: number[]): { ms: number[]; missing: number } {
  // Per strategy: arrivals in order (a strategy's frames come in stream order).
  const byStrategy = new Map<number, { seq: number[]; at: number[] }>();
  for (let i = 0; i < arrivals.length; i += 3) {
    const s = arrivals[i]!;
    let list = byStrategy.get(s);
    if (!list) byStrategy.set(s, (list = { seq: [], at: [] }));
    list.seq.push(arrivals[i + 1]!);
    list.at.push(arrivals[i + 2]!);
  }
  const ms: number[] = [];
  let missing = 0;
  for (let i = 0; i < sends.length; i += 3) {
    const list = byStrategy.get(sends[i]!);
    const q = sends[i + 1]!;
    // First arrival with seq >= q (binary search: seqs rise with time).
    let lo = 0;
    let hi = list ? list.seq.length : 0;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list!.seq[mid]! >= q) hi = mid;
      else lo = mid + 1;
    }
    if (!list || lo >= list.seq.length) missing++;
    else ms.push(list.at[lo]! - sends[i + 2]!);
  }
  ms.sort((x, y) => x - y);
  return { ms, missing };
}

export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}
