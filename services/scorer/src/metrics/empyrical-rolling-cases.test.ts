/**
 * empyrical's published expectations that are not a single literal per
 * series: the CVaR definition, betas of noise against itself, and the rolling
 * (roll_*) results, which check the incremental engine window by window.
 *
 * Source: quantopian/empyrical, empyrical/tests/test_stats.py (see
 * empyrical-cases.test.ts for the copies read); each test names its function.
 */
import { describe, expect, it } from 'vitest';
import { almostEqual, bothEngines, rollingWindows } from './testing/both-engines.js';
import {
  type Obs,
  NaN_,
  flatLine1Tz,
  mixedReturns,
  negativeReturns,
  neg,
} from './testing/empyrical-series.js';
import { mulberry32 } from './testing/seeded-series.js';

describe("empyrical's published expectations for CVaR, beta and rolling windows", () => {
  it('test_conditional_value_at_risk: a single return is its own CVaR at cutoff 0 and 1', () => {
    for (const varCutoff of [0, 1]) {
      for (const { values } of bothEngines([-0.0123], undefined, { varCutoff })) {
        expect(values.conditionalValueAtRisk).toBe(-0.0123);
      }
    }
  });

  it('test_conditional_value_at_risk: CVaR is the mean of the returns at or below VaR', () => {
    // empyrical draws 21 normal returns; any 21 distinct returns exercise the same property.
    const returns = Array.from({ length: 21 }, (_, i) => Math.sin(i * 7.3) * 0.02);
    for (const varCutoff of [0, 0.0499, 0.05, 0.2, 0.999, 1]) {
      for (const { values } of bothEngines(returns, undefined, { varCutoff })) {
        const tail = returns.filter((r) => r <= values.valueAtRisk);
        const expected = tail.reduce((a, b) => a + b, 0) / tail.length;
        expect(values.conditionalValueAtRisk).toBeCloseTo(expected, 12);
      }
    }
  });

  it('test_beta: noise against itself, doubled, inverted; sparse flat benchmark is NaN', () => {
    // empyrical draws 1000 normal(0, 0.001) returns; the expected betas do not depend on the draw.
    const rand = mulberry32(1337);
    const noise = Array.from({ length: 1000 }, () => (rand() - 0.5) * 0.0035);
    const times = (k: number, xs: readonly number[]): number[] => xs.map((x) => k * x);
    const cases: [readonly Obs[], readonly Obs[], number][] = [
      [noise, noise, 1.0],
      [times(2, noise), noise, 2.0],
      [noise, times(-1, noise), -1.0],
      [times(2, noise), times(-1, noise), -2.0],
    ];
    const gaps = new Set(Array.from({ length: 7 }, () => Math.floor(rand() * 1000)));
    const sparse = noise.map((x, i) => (gaps.has(i) ? null : x * 0.01));
    const sparseFlat = flatLine1Tz.map((x, i) => (gaps.has((i * 7) % 1000) ? null : x));
    cases.push([sparse, sparseFlat, NaN_]);
    for (const [returns, benchmark, expected] of cases) {
      for (const { name, values } of bothEngines(returns, benchmark)) {
        expect(almostEqual(values.beta, expected, 8), `${name} gave ${values.beta}`).toBe(true);
      }
    }
  });

  it('test_roll_max_drawdown: negative_returns, window 6', () => {
    const got = rollingWindows(negativeReturns, undefined, 6).map((v) => v.maxDrawdown);
    [-0.2282, -0.2745, -0.2899, -0.2747].forEach((e, i) =>
      expect(almostEqual(got[i]!, e, 4)).toBe(true),
    );
  });

  it('test_roll_sharpe_ratio: negative_returns and mixed_returns, window 6', () => {
    const cases: [Obs[], number[]][] = [
      [negativeReturns, [-18.09162052, -26.79897486, -26.69138263, -25.72298838]],
      [mixedReturns, [7.57445259, 8.22784105, 8.22784105, -3.1374751]],
    ];
    for (const [returns, expected] of cases) {
      const got = rollingWindows(returns, undefined, 6).map((v) => v.sharpeRatio);
      expect(got).toHaveLength(expected.length);
      expected.forEach((e, i) =>
        expect(almostEqual(got[i]!, e, 8), `${got[i]} vs ${e}`).toBe(true),
      );
    }
  });

  it('test_roll_alpha_beta: mixed vs negative, mixed and -mixed, window 6', () => {
    const cases: [Obs[], [number, number][]][] = [
      [
        negativeReturns,
        [
          [-0.97854954, -0.7826087],
          [-0.9828927, -0.76156584],
          [-0.93166924, -0.61682243],
          [-0.99967288, -0.41311475],
        ],
      ],
      [mixedReturns, Array.from({ length: 4 }, (): [number, number] => [0, 1])],
      [neg(mixedReturns), Array.from({ length: 4 }, (): [number, number] => [0, -1])],
    ];
    for (const [benchmark, expected] of cases) {
      const got = rollingWindows(mixedReturns, benchmark, 6);
      expected.forEach(([alpha, beta], i) => {
        expect(almostEqual(got[i]!.alpha, alpha, 8), `alpha ${got[i]!.alpha} vs ${alpha}`).toBe(
          true,
        );
        expect(almostEqual(got[i]!.beta, beta, 8), `beta ${got[i]!.beta} vs ${beta}`).toBe(true);
      });
    }
  });
});
