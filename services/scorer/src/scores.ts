import type { MetricValues, ScoreStatus, Scores } from '@quantmon/shared';

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
/** A metric that is undefined (too few observations, no benchmark) contributes nothing. */
const orZero = (x: number): number =>
  Number.isFinite(x)
    ? x
    : x === Infinity
      ? Number.MAX_VALUE
      : x === -Infinity
        ? -Number.MAX_VALUE
        : 0;

/**
 * The three scores of docs/architecture.md, each 0-100, from the engine's metrics:
 * - performance = clamp(sharpe*20, 0, 40) + clamp(informationRatio*15, 0, 30) + clamp(winRate*30, 0, 30)
 * - risk        = clamp(annualVolatility*100, 0, 40) + clamp(|maxDrawdown|*100, 0, 30) + clamp(|valueAtRisk|*100, 0, 30)
 * - stability   = max(0, 50 - trackingError*100) + max(0, 50 - |correlation|*50)
 * informationRatio and trackingError are the annualised ones; without a
 * benchmark they are undefined and contribute 0 (performance) or the full
 * 50 (stability: nothing to drift from).
 */
export function computeScores(m: MetricValues): Scores {
  return computeScoresInto(m, { performance: 0, risk: 0, stability: 0 });
}

/**
 * computeScores written into a caller-owned object: the scorer folds every
 * sample's scores into a batch's span and keeps none of them, so one object
 * serves them all (an object per sample was ~100 bytes of its allocation).
 */
export function computeScoresInto(m: MetricValues, out: Scores): Scores {
  const performance =
    clamp(orZero(m.sharpeRatio) * 20, 0, 40) +
    clamp(orZero(m.informationRatio) * 15, 0, 30) +
    clamp(orZero(m.winRate) * 30, 0, 30);
  const risk =
    clamp(orZero(m.annualVolatility) * 100, 0, 40) +
    clamp(Math.abs(orZero(m.maxDrawdown)) * 100, 0, 30) +
    clamp(Math.abs(orZero(m.valueAtRisk)) * 100, 0, 30);
  const stability =
    Math.max(0, 50 - orZero(m.trackingError) * 100) +
    Math.max(0, 50 - Math.abs(orZero(m.correlation)) * 50);
  out.performance = performance;
  out.risk = risk;
  out.stability = stability;
  return out;
}

/** Status words and their bands (docs/architecture.md "Targets"). */
export function scoreStatus(s: Scores): ScoreStatus {
  return {
    performance:
      s.performance > 70 ? 'EXCELLENT' : s.performance >= 50 ? 'GOOD' : 'NEEDS IMPROVEMENT',
    risk: s.risk < 30 ? 'LOW' : s.risk <= 50 ? 'MODERATE' : 'HIGH',
    stability: s.stability > 80 ? 'STABLE' : 'UNSTABLE',
  };
}
