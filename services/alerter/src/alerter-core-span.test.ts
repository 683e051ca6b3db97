import type { ScoreSpan } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { AlerterCore, type Transition } from './alerter-core.js';
import { compileRules } from './rules.js';
import { scoreInput } from './testing-inputs.js';

const T0 = 1_700_000_000_000;
const core = (): AlerterCore =>
  new AlerterCore(compileRules({}, 60_000), 20, new Map(), new Map(), T0);
const states = (ts: Transition[]): string[] =>
  ts.filter((t) => t.event).map((t) => `${t.event?.rule}:${t.event?.state}`);

const span = (over: Partial<ScoreSpan>): ScoreSpan => ({
  samples: 40,
  firstEntryId: `${T0 - 1000}-0`,
  firstCount: 100,
  low: {},
  high: {},
  ...over,
});

describe('AlerterCore on conflated updates (span)', () => {
  it('fires var_exceeded once when VaR crossed between two updates, though the latest is back inside', () => {
    const c = core();
    const out = c.observe(
      scoreInput(
        'crash',
        { valueAtRisk: -0.05 },
        { span: span({ low: { valueAtRisk: -0.31 }, high: { valueAtRisk: -0.02 } }) },
      ),
      `${T0}-0`,
      T0,
    );
    expect(states(out)).toEqual(['var_exceeded:firing']);
    expect(out[0]!.event!.value).toBeCloseTo(0.31);
    // The latest is under the clear threshold: the resolve waits out keepFiringFor, as per sample.
    expect([...c.incidents.values()][0]!.clearSince).toBe(T0);
    expect(c.observe(scoreInput('crash', { valueAtRisk: -0.05 }), `${T0 + 1}-0`, T0 + 1)).toEqual(
      [],
    );
  });

  it('judges only the latest when the span started before the rule had enough observations', () => {
    const c = core();
    const out = c.observe(
      scoreInput(
        'young',
        { valueAtRisk: -0.05 },
        {
          count: 30,
          span: span({ firstCount: 5, low: { valueAtRisk: -0.5 }, high: { valueAtRisk: 0 } }),
        },
      ),
      `${T0}-0`,
      T0,
    );
    expect(states(out)).toEqual([]);
  });

  it('opens nothing when the whole span stayed inside the threshold', () => {
    const c = core();
    const out = c.observe(
      scoreInput(
        'calm',
        { valueAtRisk: -0.05, currentDrawdown: -0.02 },
        {
          span: span({
            low: { valueAtRisk: -0.14, currentDrawdown: -0.09 },
            high: { valueAtRisk: -0.01, currentDrawdown: 0 },
          }),
        },
      ),
      `${T0}-0`,
      T0,
    );
    expect(out).toEqual([]);
  });

  it('judges a firing incident by the worst of the span: a dip back past the clear threshold restarts nothing', () => {
    const c = core();
    c.observe(scoreInput('dd', { currentDrawdown: -0.12 }), `${T0}-0`, T0);
    // Drawdown clear (latest -0.02) but it went to -0.11 in between: still one incident, clear timer from now.
    const out = c.observe(
      scoreInput(
        'dd',
        { currentDrawdown: -0.02 },
        { span: span({ low: { currentDrawdown: -0.11 }, high: { currentDrawdown: -0.02 } }) },
      ),
      `${T0 + 5000}-0`,
      T0 + 5000,
    );
    expect(states(out)).toEqual([]);
    expect(c.incidents.size).toBe(1);
    expect([...c.incidents.values()][0]!.clearSince).toBe(T0 + 5000);
  });
});
