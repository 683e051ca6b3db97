import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AlerterCore, type Transition } from './alerter-core.js';
import { loadRules } from './rules-file.js';
import { compileRules, RulesError } from './rules.js';
import { scoreInput, systemInput } from './testing-inputs.js';

const T0 = 1_700_000_000_000;

/** Drawdown past 0.10 projected within 20 periods, from the last 20 values (examples/rules.yaml). */
const DRAWDOWN_FORECAST = {
  metric: 'currentDrawdown',
  transform: 'negate',
  comparison: '>',
  threshold: 0.1,
  clearThreshold: 0.08,
  level: 'warning',
  subject: 'strategy',
  forecast: { window: 20, horizon: 20 },
  recommendation: 'Drawdown is heading for its limit: review the strategy before it gets there.',
};

const core = (rules: Record<string, unknown> = { drawdown_forecast: DRAWDOWN_FORECAST }) =>
  new AlerterCore(compileRules({ rules }, 60_000), 20, new Map(), new Map(), T0);

/** Feed one drawdown per sample (a second apart); the first sample at which each rule fired. */
function firstFirings(c: AlerterCore, drawdowns: readonly number[]): Map<string, number> {
  const first = new Map<string, number>();
  drawdowns.forEach((dd, i) => {
    const t = T0 + i * 1000;
    const out: Transition[] = c.observe(
      scoreInput('s1', { currentDrawdown: dd }, { ts: t }),
      `${t}-0`,
      t,
    );
    for (const tr of out) {
      const e = tr.event;
      if (e?.state === 'firing' && !first.has(e.rule)) first.set(e.rule, i);
    }
  });
  return first;
}

/** Deterministic noise (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('AlerterCore forecast rules', () => {
  it('fires on a steady decline 20 samples before the threshold rule does', () => {
    // Drawdown deepens by 0.002 a sample: 0.10 is reached at sample 50.
    const drawdowns = Array.from({ length: 70 }, (_, i) => -0.002 * i);
    const first = firstFirings(core(), drawdowns);
    // The projection 20 periods ahead crosses 0.10 once 0.002 * (i + 20) > 0.10: sample 31.
    expect(first.get('drawdown_forecast')).toBe(31);
    expect(first.get('drawdown_exceeded')).toBe(51);
  });

  it('names the projection in its message and records the projected value', () => {
    const c = core();
    const drawdowns = Array.from({ length: 32 }, (_, i) => -0.002 * i);
    let event;
    drawdowns.forEach((dd, i) => {
      const t = T0 + i * 1000;
      for (const tr of c.observe(scoreInput('s1', { currentDrawdown: dd }), `${t}-0`, t)) {
        if (tr.event?.rule === 'drawdown_forecast') event = tr.event;
      }
    });
    expect(event).toMatchObject({ state: 'firing', metric: 'currentDrawdown', threshold: 0.1 });
    expect(event!.value).toBeCloseTo(0.102, 10);
    expect(event!.message).toBe(
      'drawdown_forecast: currentDrawdown projected 0.102 in 20 periods > 0.1 on strategy/s1',
    );
  });

  it('stays quiet on noise around a level well inside the limit', () => {
    const r = rng(42);
    // 2000 samples of drawdown between -0.06 and -0.02: no trend, never near 0.10.
    const drawdowns = Array.from({ length: 2000 }, () => -0.04 + (r() - 0.5) * 0.04);
    const first = firstFirings(core(), drawdowns);
    expect(first.size).toBe(0);
  });

  it('resolves past its clear threshold once the decline turns', () => {
    const c = core();
    const down = Array.from({ length: 35 }, (_, i) => -0.002 * i);
    const up = Array.from({ length: 40 }, (_, i) => -0.068 + 0.002 * i);
    const states: string[] = [];
    [...down, ...up].forEach((dd, i) => {
      const t = T0 + i * 1000;
      for (const tr of c.observe(scoreInput('s1', { currentDrawdown: dd }), `${t}-0`, t)) {
        if (tr.event?.rule === 'drawdown_forecast') states.push(tr.event.state);
      }
    });
    expect(states).toEqual(['firing', 'resolved']);
  });

  it('holds a forecast for `for` as other rules (pending, then firing)', () => {
    const c = core({ drawdown_forecast: { ...DRAWDOWN_FORECAST, for: '5s' } });
    const drawdowns = Array.from({ length: 40 }, (_, i) => -0.002 * i);
    const seen: string[] = [];
    drawdowns.forEach((dd, i) => {
      const t = T0 + i * 1000;
      for (const tr of c.observe(scoreInput('s1', { currentDrawdown: dd }), `${t}-0`, t)) {
        if (tr.event?.rule === 'drawdown_forecast') seen.push(`${i}:${tr.event.state}`);
      }
    });
    expect(seen).toEqual(['31:pending', '36:firing']);
  });

  it('advances a conflated update by every sample it covers, not by one', () => {
    const c = core();
    // Drawdown deepens 0.001 a sample throughout: twenty single-sample
    // updates, then updates that each cover ten samples (0.01 deeper each).
    const fired: { i: number; value: number }[] = [];
    const feed = (i: number, dd: number, samples: number): void => {
      const t = T0 + i * 1000;
      const span =
        samples > 1
          ? {
              samples,
              firstEntryId: `${t - 1}-0`,
              firstCount: 100,
              low: { currentDrawdown: dd },
              high: { currentDrawdown: dd + 0.009 },
            }
          : undefined;
      const input = scoreInput('s1', { currentDrawdown: dd }, span ? { span } : {});
      for (const tr of c.observe(input, `${t}-0`, t)) {
        const e = tr.event;
        if (e?.rule === 'drawdown_forecast' && e.state === 'firing')
          fired.push({ i, value: e.value });
      }
    };
    for (let i = 1; i <= 20; i++) feed(i, -0.0005 - 0.001 * i, 1);
    for (let k = 1; k <= 8; k++) feed(20 + k, -0.0205 - 0.01 * k, 10);
    // On the periods axis the points lie on one line (0.001 a period): 20
    // periods ahead is 0.02 deeper, past 0.10 from -0.0805 on (k = 6). Read
    // as one period per update, the fit bends towards the steeper updates and
    // fires a step early (k = 5, projected from a wrong slope).
    expect(fired.map((f) => f.i)).toEqual([26]);
    expect(fired[0]!.value).toBeCloseTo(0.1005, 10);
  });

  it('drops the trend of a forgotten subject: its window refills before it is judged again', () => {
    const c = core();
    const fired: number[] = [];
    for (let i = 0; i < 60; i++) {
      if (i === 26) c.forget(new Set(['strategy/s1']), { kind: 'idle', afterMs: 1 }, T0 + i * 1000);
      const t = T0 + i * 1000;
      for (const tr of c.observe(scoreInput('s1', { currentDrawdown: -0.002 * i }), `${t}-0`, t)) {
        if (tr.event?.rule === 'drawdown_forecast' && tr.event.state === 'firing') fired.push(i);
      }
    }
    // Without the forget it fires at 31; with it, 20 new points are needed (26..45).
    expect(fired).toEqual([45]);
  });

  it('works on host metrics with a time horizon, per host', () => {
    const c = core({
      disk_filling: {
        metric: 'disk',
        comparison: '>',
        threshold: 95,
        level: 'warning',
        subject: 'host',
        forecast: { window: 10, horizonTime: '1h' },
        recommendation: 'The disk fills up within the hour.',
      },
    });
    const fired: string[] = [];
    // One sample a minute, +0.5 % a minute from 40 %: 95 % is 110 minutes away
    // at the start; the forecast fires once it is an hour away (at 65 %).
    for (let i = 0; i < 60; i++) {
      const t = T0 + i * 60_000;
      const out = c.observe(systemInput('h1', { ts: t, disk: 40 + 0.5 * i }), `${t}-0`, t);
      for (const tr of out) if (tr.event?.state === 'firing') fired.push(`${i}`);
      c.observe(systemInput('h2', { ts: t, disk: 40 }), `${t}-1`, t);
    }
    expect(fired).toEqual(['51']);
    expect([...c.incidents.keys()]).toEqual(['disk_filling|host/h1']);
  });
});

describe('forecast rule validation', () => {
  const bad = (forecast: unknown): string => {
    try {
      compileRules({ rules: { f: { ...DRAWDOWN_FORECAST, forecast } } }, 60_000);
    } catch (err) {
      if (err instanceof RulesError) return err.message;
      throw err;
    }
    return 'accepted';
  };

  it('wants exactly one horizon, a window of 2 or more, and minPoints within it', () => {
    expect(bad({ window: 20 })).toMatch(/field "forecast.horizon": give exactly one of horizon/);
    expect(bad({ window: 20, horizon: 5, horizonTime: '1m' })).toMatch(/exactly one/);
    expect(bad({ window: 1, horizon: 5 })).toMatch(/forecast.window.*2 to 10000/);
    expect(bad({ window: 20, horizon: 5, minPoints: 30 })).toMatch(/minPoints.*at most window/);
    expect(bad({ window: 20, horizon: -1 })).toMatch(/forecast.horizon.*above 0/);
    expect(bad({ window: 20, horizonTime: 'soon' })).toMatch(/forecast.horizonTime.*duration/);
    expect(bad({ window: 20, horizon: 5, slope: 1 })).toMatch(/forecast/);
    expect(bad({ window: 20, horizonTime: '1h', minPoints: 5 })).toBe('accepted');
  });
});

describe('examples/rules.yaml', () => {
  it('compiles, its forecast rules included', async () => {
    const path = fileURLToPath(new URL('../../../examples/rules.yaml', import.meta.url));
    const set = await loadRules(path, 60_000);
    const forecasts = set.rules.filter((r) => r.base.forecast).map((r) => r.name);
    expect(forecasts).toEqual(['drawdown_forecast', 'disk_filling']);
  });
});
