/**
 * Deterministic test series: a tiny seeded PRNG (mulberry32) and a generator
 * of awkward return streams (gaps, exact zeros, exact -100 %, constant runs,
 * tiny and huge moves) so property tests are reproducible from their seed.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeriesMix {
  /** Probability that a return is missing (null). */
  missing: number;
  /** Probability of an exact 0 return. */
  zero: number;
  /** Probability of an exact -1 (-100 %) return. */
  wipeout: number;
  /** Probability of starting a run of one repeated value. */
  constantRun: number;
  /** Probability that the benchmark is missing. */
  benchmarkMissing: number;
}

export const AWKWARD_MIX: SeriesMix = {
  missing: 0.08,
  zero: 0.08,
  wipeout: 0.004,
  constantRun: 0.01,
  benchmarkMissing: 0.05,
};

export interface Series {
  returns: (number | null)[];
  benchmark: (number | null)[];
}

export function generateSeries(seed: number, length: number, mix: SeriesMix): Series {
  const rand = mulberry32(seed);
  const returns: (number | null)[] = [];
  const benchmark: (number | null)[] = [];
  let runLeft = 0;
  let runValue = 0;
  let runBench = 0;
  for (let i = 0; i < length; i++) {
    if (runLeft === 0 && rand() < mix.constantRun) {
      runLeft = 2 + Math.floor(rand() * 40);
      runValue = rand() < 0.3 ? 0 : (rand() - 0.45) * 0.04;
      runBench = (rand() - 0.5) * 0.02;
    }
    if (runLeft > 0) {
      runLeft--;
      returns.push(runValue);
      benchmark.push(runBench);
      continue;
    }
    const u = rand();
    const b = (rand() - 0.5) * 0.03;
    let r: number | null;
    if (u < mix.missing) r = null;
    else if (u < mix.missing + mix.zero) r = 0;
    else if (u < mix.missing + mix.zero + mix.wipeout) r = -1;
    else r = 0.6 * b + (rand() - 0.48) * 0.05;
    returns.push(r);
    benchmark.push(rand() < mix.benchmarkMissing ? null : b);
  }
  return { returns, benchmark };
}
