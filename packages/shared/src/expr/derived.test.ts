import { describe, expect, it } from 'vitest';
import { CatalogueError, compileCatalogue } from '../catalogue/resolve.js';
import { METRIC_NAMES } from '../metric-names.js';
import { ScoreUpdate, type StrategyMetrics } from '../schemas/score-update.js';
import { compileDerived, derivedOf, DerivedMetrics, withDerived } from './derived.js';

const metrics = (over: Partial<StrategyMetrics>): StrategyMetrics => ({
  ...(Object.fromEntries(METRIC_NAMES.map((n) => [n, null])) as StrategyMetrics),
  ...over,
});

const update = (over: Partial<ScoreUpdate> = {}): ScoreUpdate => ({
  strategy: 'fx-1',
  id: 'x',
  ts: 1_767_225_600_000,
  sampleEntryId: '1-0',
  count: 250,
  metrics: metrics({ sharpeRatio: 1.5, annualVolatility: 0.2, maxDrawdown: -0.1 }),
  scores: { performance: 60, risk: 25, stability: 70 },
  status: { performance: 'GOOD', risk: 'LOW', stability: 'STABLE' },
  weightDrift: 0.03,
  receivedAt: 1_767_225_600_000,
  computedAt: 1_767_225_600_001,
  ...over,
});

/** The CatalogueError issues of a catalogue with this derived list, as "path: message". */
function catalogueIssues(derived: unknown): string[] {
  try {
    compileCatalogue({ derived });
  } catch (err) {
    if (err instanceof CatalogueError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('derived metrics', () => {
  it('evaluates over the update: metrics, windows, count, scores, drift and earlier derived metrics', () => {
    const d = compileDerived([
      { name: 'sharpeGap', expression: 'sharpeRatio@60 - sharpeRatio' },
      { name: 'volPerDd', expression: 'annualVolatility / -maxDrawdown' },
      { name: 'riskShare', expression: 'scores.risk / 100 + weightDrift' },
      { name: 'young', expression: 'count@60 < 60' },
      { name: 'gapTwice', expression: '2 * sharpeGap' },
    ]);
    const u = update({
      windows: {
        '60': { count: 40, metrics: metrics({ sharpeRatio: 0.5 }) },
      },
    });
    const out = d.evaluate(u);
    expect(out['sharpeGap']).toBeCloseTo(-1, 12);
    expect(out['volPerDd']).toBeCloseTo(2, 12);
    expect(out['riskShare']).toBeCloseTo(0.28, 12);
    expect(out['young']).toBe(1);
    expect(out['gapTwice']).toBeCloseTo(-2, 12);
    expect(d.names).toEqual(['sharpeGap', 'volPerDd', 'riskShare', 'young', 'gapTwice']);
  });

  it('is null where an input is undefined: a missing window, a null metric, a zero denominator', () => {
    const d = compileDerived([
      { name: 'gap', expression: 'sharpeRatio@60 - sharpeRatio' },
      { name: 'omega2', expression: 'omegaRatio * 2' },
      { name: 'ratio', expression: 'annualVolatility / maxDrawdown' },
      { name: 'sortinoCapped', expression: 'min(sortinoRatio, 10)' },
    ]);
    const out = d.evaluate(
      update({
        metrics: metrics({ maxDrawdown: 0, annualVolatility: 0.2, sortinoRatio: 'Infinity' }),
      }),
    );
    expect(out).toEqual({ gap: null, omega2: null, ratio: null, sortinoCapped: 10 });
    // And the result is a valid score update field.
    expect(ScoreUpdate.safeParse({ ...update(), derived: out }).success).toBe(true);
  });

  it('refuses a bad list in the catalogue, naming the entry, the column and the name', () => {
    expect(
      catalogueIssues([
        { name: 'a', expression: 'sharpRatio * 2' },
        { name: 'b', expression: 'b + 1' },
        { name: 'c', expression: 'a +' },
        { name: 'sharpeRatio', expression: '1' },
        { name: 'a', expression: '1' },
        { name: 'd', expression: 'scores.risk@60' },
        { name: 'e', expression: 'derived.a * 2' },
      ]),
    ).toEqual([
      'derived.3.name: is taken: a metric, function or field of the score update has that name',
      expect.stringMatching(
        /^derived\.0\.expression: unknown name sharpRatio: a metric .* at column 1$/,
      ),
      expect.stringMatching(/^derived\.1\.expression: unknown name b: .* at column 1$/),
      'derived.2.expression: unexpected end of expression at column 4',
      'derived.4.name: a is defined twice',
      'derived.5.expression: scores.risk@60: only metrics and count are kept per window at column 1',
      expect.stringMatching(
        /^derived\.6\.expression: unknown name derived\.a \(write a, without derived\.\).* at column 1$/,
      ),
    ]);
  });

  it('takes a valid list into the catalogue and sets `derived` on the update the scorer builds', () => {
    const catalogue = compileCatalogue({
      strategies: { 'fx-*': { tags: { desk: 'fx' } } },
      derived: [
        { name: 'sharpePerVol', expression: 'sharpeRatio / annualVolatility', description: 'x' },
      ],
    });
    expect(derivedOf(catalogue)).toBe(derivedOf(catalogue)); // compiled once per catalogue
    const u = withDerived(update(), catalogue);
    expect(u.derived?.['sharpePerVol']).toBeCloseTo(7.5, 12);
    // No derived list: the update is left as it is.
    expect(withDerived(update(), compileCatalogue({})).derived).toBeUndefined();
  });

  it('bounds the list', () => {
    const many = Array.from({ length: 65 }, (_, i) => ({ name: `d${i}`, expression: '1' }));
    expect(DerivedMetrics.safeParse(many).success).toBe(false);
  });
});
