/**
 * Per-strategy periods per year (issue 15, item 6): a minute, an hourly and
 * a daily strategy scored side by side each get the metrics empyrical's
 * formulas give with their own annualisation factor, through the live core
 * (ScorerCore with a catalogue) and through the batch command
 * (`npm run metrics -- --strategies FILE --strategy ID`).
 *
 * The expected values are computed here, naively and independently of both
 * engines, from empyrical's definitions (empyrical/stats.py):
 *   annual_return      = prod(1 + r) ** (ann / n) - 1
 *   annual_volatility  = std(r, ddof=1) * sqrt(ann)
 *   sharpe_ratio       = mean(r - rf) / std(r - rf, ddof=1) * sqrt(ann)
 *   downside_risk      = sqrt(mean(min(r - mar, 0) ** 2)) * sqrt(ann)
 *   sortino_ratio      = mean(r - mar) * ann / downside_risk
 *   calmar_ratio       = annual_return / -max_drawdown
 * and anchored on empyrical's published weekly and monthly values
 * (test_stats.py: test_annual_ret, test_annual_volatility, test_sortino),
 * reached through the catalogue's `interval: 1w` and `1M`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compileCatalogue,
  fromMetricValue,
  type ScoreUpdate,
  type StrategySample,
} from '@quantmon/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_METRICS_OPTIONS } from './metrics/index.js';
import { runMetricsCommand } from './cli/metrics-command.js';
import { ScorerCore } from './scorer-core.js';

const CATALOGUE = {
  strategies: {
    'fx-*': { interval: '1m' }, // 390 x 252 = 98 280 a year
    'macro-*': { interval: '1h', riskFreeAnnual: 0.04 }, // 6.5 x 252 = 1638
    'eq-*': { interval: '1d', requiredReturnAnnual: 0.02 }, // 252
    'wk-*': { interval: '1w' }, // 52, empyrical's WEEKLY
    'mo-*': { interval: '1M' }, // 12, empyrical's MONTHLY
  },
};
const N = 300;
const series = (seed: number): number[] =>
  Array.from(
    { length: N },
    (_, i) => Math.sin(i * 0.9 + seed) * 0.004 + Math.cos(i * 0.13) * 0.001 + 0.0002,
  );

/** empyrical's formulas, directly. */
function expected(r: number[], ann: number, rf: number, mar: number): Record<string, number> {
  const n = r.length;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = (xs: number[]): number => {
    const m = mean(xs);
    return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
  };
  let wealth = 1;
  let peak = 1;
  let maxDD = 0;
  for (const x of r) {
    wealth *= 1 + x;
    peak = Math.max(peak, wealth);
    maxDD = Math.min(maxDD, wealth / peak - 1);
  }
  const annualReturn = wealth ** (ann / n) - 1;
  const excess = r.map((x) => x - rf);
  const downside = Math.sqrt(mean(r.map((x) => Math.min(x - mar, 0) ** 2))) * Math.sqrt(ann);
  return {
    annualReturn,
    annualVolatility: std(r) * Math.sqrt(ann),
    sharpeRatio: (mean(excess) / std(excess)) * Math.sqrt(ann),
    downsideRisk: downside,
    sortinoRatio: (mean(r.map((x) => x - mar)) * ann) / downside,
    calmarRatio: annualReturn / -maxDD,
  };
}

const close = (got: number, want: number): void =>
  expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-8 * Math.max(1, Math.abs(want)));

/** Feed a series through a core with the catalogue: the live path. */
function live(strategy: string, r: readonly number[], stepMs: number): ScoreUpdate {
  const core = new ScorerCore(DEFAULT_METRICS_OPTIONS, compileCatalogue(CATALOGUE));
  let last: ScoreUpdate | null = null;
  r.forEach((x, i) => {
    const s: StrategySample = {
      strategy,
      ts: 1_767_225_600_000 + i * stepMs,
      return: x,
      receivedAt: 1,
    };
    last = core.apply(`${i + 1}-0`, s, 1) ?? last;
  });
  return last!;
}

const dir = mkdtempSync(join(tmpdir(), 'quantmon-frequency-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The batch command, as `npm run -s metrics -- --strategies FILE --strategy ID FILE` runs it (in-process). */
async function batch(strategy: string, r: readonly number[]): Promise<Record<string, unknown>> {
  const catalogue = join(dir, 'strategies.json');
  const input = join(dir, `${strategy}.json`);
  writeFileSync(catalogue, JSON.stringify(CATALOGUE));
  writeFileSync(input, JSON.stringify({ returns: r }));
  let out = '';
  let err = '';
  const code = await runMetricsCommand(['--strategies', catalogue, '--strategy', strategy, input], {
    stdin: () => '',
    out: (t) => (out += t),
    err: (t) => (err += t),
  });
  expect(code, err).toBe(0);
  return JSON.parse(out) as Record<string, unknown>;
}

describe('per-strategy periods per year', () => {
  const cases = [
    { strategy: 'fx-eurusd', ann: 98_280, rf: 0, mar: 0, stepMs: 60_000, seed: 1 },
    {
      strategy: 'macro-1',
      ann: 1638,
      rf: 1.04 ** (1 / 1638) - 1,
      mar: 0,
      stepMs: 3_600_000,
      seed: 2,
    },
    {
      strategy: 'eq-daily',
      ann: 252,
      rf: 0,
      mar: 1.02 ** (1 / 252) - 1,
      stepMs: 86_400_000,
      seed: 3,
    },
  ];

  it.each(cases)(
    '$strategy: the live core and the batch command give empyrical at $ann periods a year',
    async ({ strategy, ann, rf, mar, stepMs, seed }) => {
      const r = series(seed);
      const want = expected(r, ann, rf, mar);
      const u = live(strategy, r, stepMs);
      expect(u.params?.periodsPerYear).toBeCloseTo(ann, 9);
      const cli = await batch(strategy, r);
      for (const [name, value] of Object.entries(want)) {
        close(fromMetricValue(u.metrics[name as keyof typeof u.metrics]), value);
        close(cli[name] as number, value);
      }
    },
  );

  it('side by side, a minute strategy is annualised sqrt(98280 / 252) ~ 19.7 times a daily one', () => {
    const r = series(7);
    const minute = live('fx-a', r, 60_000);
    const daily = live('eq-a', r, 86_400_000);
    const ratio =
      fromMetricValue(minute.metrics.annualVolatility) /
      fromMetricValue(daily.metrics.annualVolatility);
    close(ratio, Math.sqrt(98_280 / 252));
  });

  it("reaches empyrical's published weekly and monthly values through the catalogue", async () => {
    // weekly_returns / monthly_returns of test_stats.py: [0, 1, 10, -4, 2, 3, 2, 1, -10] %.
    const r = [0, 1, 10, -4, 2, 3, 2, 1, -10].map((x) => x / 100);
    const wk = live('wk-1', r, 7 * 86_400_000);
    const mo = live('mo-1', r, 30 * 86_400_000);
    const eight = (got: ScoreUpdate['metrics'][keyof ScoreUpdate['metrics']], want: number): void =>
      expect(Math.abs(fromMetricValue(got) - want)).toBeLessThan(1.5e-8);
    eight(wk.metrics.annualReturn, 0.24690830513998208);
    eight(mo.metrics.annualReturn, 0.052242061386048144);
    eight(wk.metrics.annualVolatility, 0.38851569394870583);
    eight(mo.metrics.annualVolatility, 0.18663690238892558);
    eight(wk.metrics.sortinoRatio, 1.1158901056866439);
    eight(mo.metrics.sortinoRatio, 0.53605626741889756);
    const cli = await batch('wk-1', r);
    expect(Math.abs((cli['annualReturn'] as number) - 0.24690830513998208)).toBeLessThan(1.5e-8);
  });
});
