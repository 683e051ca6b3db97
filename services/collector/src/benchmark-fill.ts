import type { Catalogue, SampleOutcome, StrategySample } from '@quantmon/shared';
import { resolveStrategy } from '@quantmon/shared';

/**
 * Benchmark returns from the catalogue (README "Strategy catalogue",
 * `benchmark:`). A strategy whose entry names a benchmark B, posting a
 * sample without `benchmarkReturn`, gets B's return for the same period:
 * the return of B's sample with the same `ts`, accepted before it or in the
 * same request. The collector writes the filled value into the stored
 * sample, so the scorer, a replay, the history and the batch command all
 * see the same number. A sample that carries its own `benchmarkReturn`
 * keeps it; one whose benchmark has no sample at that `ts` stays without
 * (its benchmark metrics skip that period, as they do today).
 *
 * Why at ingest and not in the scorer: B and the strategy hash to different
 * partitions, owned by different scorers that run at their own pace, so a
 * lookup there would depend on timing and a rebuild could disagree with the
 * live run. Stamped once at the edge, the stored stream is the truth.
 */

const idsOf = new WeakMap<Catalogue, Set<string>>();

/** The ids some catalogue entry names as its benchmark (empty: nothing to fill). */
export function benchmarkIds(catalogue: Catalogue): Set<string> {
  const memo = idsOf.get(catalogue);
  if (memo) return memo;
  const ids = new Set<string>();
  idsOf.set(catalogue, ids);
  const { defaults, strategies } = catalogue.file;
  if (defaults?.benchmark !== undefined) ids.add(defaults.benchmark);
  for (const e of Object.values(strategies ?? {})) {
    if (e.benchmark !== undefined) ids.add(e.benchmark);
  }
  return ids;
}

/** What one request needs: per benchmark, the periods to look up. */
export interface FillPlan {
  /** Index in the request -> the benchmark whose return it takes. */
  targets: Map<number, string>;
  /** Benchmark -> the ts (ms) to look up in Redis (not found in the request itself). */
  lookups: Map<string, number[]>;
  /** Benchmark -> ts -> return, from the benchmark's own samples in this request. */
  inRequest: Map<string, Map<number, number>>;
}

/** Which samples take a benchmark return, and which periods must come from Redis. */
export function planFill(samples: readonly StrategySample[], catalogue: Catalogue): FillPlan {
  const plan: FillPlan = { targets: new Map(), lookups: new Map(), inRequest: new Map() };
  const bench = benchmarkIds(catalogue);
  if (bench.size === 0) return plan;
  for (const s of samples) {
    if (!bench.has(s.strategy)) continue;
    let byTs = plan.inRequest.get(s.strategy);
    if (!byTs) plan.inRequest.set(s.strategy, (byTs = new Map()));
    // First one wins, as the stream's idempotency keeps the first write.
    if (!byTs.has(s.ts)) byTs.set(s.ts, s.return);
  }
  samples.forEach((s, i) => {
    if (s.benchmarkReturn !== undefined) return;
    const b = resolveStrategy(catalogue, s.strategy).benchmark;
    if (b === null || b === s.strategy) return;
    plan.targets.set(i, b);
    if (plan.inRequest.get(b)?.has(s.ts)) return;
    const ts = plan.lookups.get(b);
    if (ts) ts.push(s.ts);
    else plan.lookups.set(b, [s.ts]);
  });
  return plan;
}

/**
 * The request with benchmark returns filled in (a new array; samples not
 * filled are the same objects). `found` holds what Redis had: benchmark ->
 * ts -> return.
 */
export function applyFill(
  samples: StrategySample[],
  plan: FillPlan,
  found: ReadonlyMap<string, ReadonlyMap<number, number>>,
): StrategySample[] {
  if (plan.targets.size === 0) return samples;
  return samples.map((s, i) => {
    const b = plan.targets.get(i);
    if (b === undefined) return s;
    const r = plan.inRequest.get(b)?.get(s.ts) ?? found.get(b)?.get(s.ts);
    return r === undefined ? s : { ...s, benchmarkReturn: r };
  });
}

/**
 * The benchmark returns to remember after a write: benchmark -> [ts,
 * return] of its samples the stream holds (written, late, or a duplicate:
 * a client retrying after a 503 heals a record that failed), not of
 * out-of-order ones, which the stream refused.
 */
export function benchmarkReturnsToRecord(
  samples: readonly StrategySample[],
  outcomes: readonly SampleOutcome[],
  bench: ReadonlySet<string>,
): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  if (bench.size === 0) return out;
  samples.forEach((s, i) => {
    const o = outcomes[i];
    if (!bench.has(s.strategy) || o === undefined || o === 'out-of-order') return;
    const list = out.get(s.strategy);
    if (list) list.push([s.ts, s.return]);
    else out.set(s.strategy, [[s.ts, s.return]]);
  });
  return out;
}
