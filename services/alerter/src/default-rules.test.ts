import type { SystemSample } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { AlerterCore, type Transition } from './alerter-core.js';
import { RATIO_MIN_OBSERVATIONS } from './default-rules.js';
import { compileRules } from './rules.js';
import { scoreInput, systemInput } from './testing-inputs.js';

/**
 * The default rules as a fresh `npm start` meets them: host rules see the
 * start-up, strategy statistics see short windows; risk still fires at once.
 */

const T0 = 1_700_000_000_000;
const S = 1000;
const INTERVAL = 5 * S; // the collector's default SYSTEM_INTERVAL_MS

const events = (ts: Transition[]): string[] =>
  ts.flatMap((t) => (t.event ? [`${t.event.rule}:${t.event.state}`] : []));

/** Events with the second (from T0) they were raised at. */
const timed = (ts: Transition[], at: number): string[] =>
  events(ts).map((e) => `${e}@${(at - T0) / S}s`);

/** An alerter on the default rules, ALERTER_MIN_OBSERVATIONS 20, no no-data. */
function defaults(lastSeen = new Map<string, number>()): AlerterCore {
  return new AlerterCore(compileRules({}, 0), 20, new Map(), lastSeen, T0);
}

/**
 * One host reporting every INTERVAL from `from` to `to` (inclusive), the
 * alerter ticking every second in between: every event it raises, timed.
 */
function run(
  c: AlerterCore,
  from: number,
  to: number,
  sample: (at: number) => Omit<Partial<SystemSample>, 'host'>,
  host = 'h1',
): string[] {
  const out: string[] = [];
  for (let at = from; at <= to; at += S) {
    if ((at - from) % INTERVAL === 0) {
      const input = systemInput(host, { ...sample(at), ts: at });
      out.push(...timed(c.observe(input, `${at}-0`, at), at));
    }
    out.push(...timed(c.tick(at), at));
  }
  return out;
}

describe('default rules', () => {
  it('raise nothing for the start-up CPU spike and error burst of a fresh start', () => {
    const c = defaults();
    // What issue 11 saw: CPU 87-100 % and one of two probe calls failed, for the first samples.
    const startUp = (at: number): Omit<Partial<SystemSample>, 'host'> =>
      at - T0 < 10 * S
        ? { cpu: 97, memory: 60, errorRate: 50, errorRateOperations: 2, apiResponseTime: 3 }
        : { cpu: 20, memory: 60, errorRate: 0, errorRateOperations: 60, apiResponseTime: 0.1 };
    expect(run(c, T0, T0 + 10 * 60 * S, startUp)).toEqual([]);
    expect(c.incidents.size).toBe(0);
  });

  it('hold a lone CPU spike after start-up as pending, never firing', () => {
    const c = defaults();
    const got = run(c, T0, T0 + 10 * 60 * S, (at) => ({ cpu: at === T0 + 300 * S ? 99 : 20 }));
    expect(got).toEqual(['cpu_high:pending@300s', 'cpu_high:resolved@305s']);
  });

  it('fire cpu_high once CPU has stayed high for its `for` (2 minutes)', () => {
    const c = defaults();
    const got = run(c, T0, T0 + 6 * 60 * S, (at) => ({ cpu: at >= T0 + 120 * S ? 95 : 20 }));
    expect(got).toEqual(['cpu_high:pending@120s', 'cpu_high:firing@240s']);
    expect(c.incidents.get('cpu_high|host/h1')?.firing.startsAt).toBe(T0 + 120 * S);
  });

  it('give a host back its start-up grace when it returns from a long silence', () => {
    const c = defaults();
    expect(run(c, T0, T0 + 60 * S, () => ({ cpu: 20 }))).toEqual([]);
    // The collector restarts ten minutes later: its first samples are start-up again.
    const back = T0 + 660 * S;
    const got = run(c, back, back + 300 * S, (at) => ({ cpu: at - back < 30 * S ? 99 : 20 }));
    expect(got).toEqual([]);
  });

  it('start no grace for a host already reporting when the alerter restarts', () => {
    // Its last-seen time, kept in Redis, is one interval old.
    const c = defaults(new Map([['host/h1', T0 - INTERVAL]]));
    const got = run(c, T0, T0 + 10 * S, () => ({ cpu: 99 }));
    expect(got).toEqual(['cpu_high:pending@0s']);
  });

  it('do not judge an error rate drawn from fewer than 20 operations', () => {
    const c = defaults();
    // Two minutes in: a quiet host whose few probe calls fail, for ten minutes.
    const got = run(c, T0, T0 + 12 * 60 * S, (at) =>
      at - T0 < 2 * 60 * S
        ? { errorRate: 0, errorRateOperations: 40 }
        : { errorRate: 50, errorRateOperations: 4 },
    );
    expect(got).toEqual([]);
  });

  it('fire error_rate_high, with its system-check job, on a sustained rate over enough operations', () => {
    const c = defaults();
    const got = run(c, T0, T0 + 5 * 60 * S, (at) => ({
      errorRate: at < T0 + 120 * S ? 0 : 12,
      errorRateOperations: 300,
    }));
    expect(got).toEqual(['error_rate_high:pending@120s', 'error_rate_high:firing@180s']);
    expect(c.outbox(T0 + 180 * S).jobs.map((i) => i.action)).toEqual(['system-check']);
  });

  it('keep a firing error rate firing while its volume is too low to judge', () => {
    const c = defaults();
    run(c, T0, T0 + 4 * 60 * S, (at) => ({
      errorRate: at < T0 + 120 * S ? 0 : 12,
      errorRateOperations: 300,
    }));
    const quiet = run(c, T0 + 245 * S, T0 + 400 * S, () => ({
      errorRate: 0,
      errorRateOperations: 5,
    }));
    expect(quiet).toEqual([]);
    const back = run(c, T0 + 405 * S, T0 + 405 * S, () => ({
      errorRate: 0,
      errorRateOperations: 300,
    }));
    expect(back).toEqual(['error_rate_high:resolved@405s']);
  });

  it('judge an error rate without a volume, from a collector that predates the field', () => {
    const c = defaults();
    const got = run(c, T0, T0 + 4 * 60 * S, (at) => ({ errorRate: at < T0 + 120 * S ? 0 : 12 }));
    expect(got).toEqual(['error_rate_high:pending@120s', 'error_rate_high:firing@180s']);
  });

  it('do not judge Sharpe from 20 observations', () => {
    const c = defaults();
    for (let i = 0; i < 40; i++) {
      const at = T0 + i * S;
      const young = scoreInput('young', { sharpeRatio: 0.1 }, { count: 20 + i });
      expect(c.observe(young, `${at}-0`, at)).toEqual([]);
    }
    const at = T0 + 60 * S;
    const grown = scoreInput('young', { sharpeRatio: 0.1 }, { count: RATIO_MIN_OBSERVATIONS });
    expect(events(c.observe(grown, `${at}-0`, at))).toEqual(['sharpe_decline:firing']);
  });

  it('fire var_exceeded on the very sample whose VaR crosses 0.15, with its job owed at once', () => {
    const c = defaults();
    for (let i = 0; i < 30; i++) {
      const at = T0 + i * S;
      const calm = scoreInput(
        'alpha',
        { valueAtRisk: -0.05, currentDrawdown: -0.01 },
        { count: 21 + i },
      );
      expect(c.observe(calm, `${at}-0`, at)).toEqual([]);
    }
    const at = T0 + 30 * S;
    const crash = scoreInput('alpha', { valueAtRisk: -0.2, currentDrawdown: -0.12 }, { count: 51 });
    const t = c.observe(crash, `${at}-0`, at);
    expect(events(t).sort()).toEqual(['drawdown_exceeded:firing', 'var_exceeded:firing']);
    expect(c.outbox(at).jobs.map((i) => i.firing.rule)).toEqual(['var_exceeded']);
  });

  it('fire each jittering strategy warning once in 90 s of the demo feed, not on every crossing', () => {
    // Issue 11: drawdown and Sharpe on demo-levered fired 6-7 times in 90 s.
    const c = defaults();
    const out: string[] = [];
    for (let i = 0; i < 180; i++) {
      const at = T0 + i * 500; // DEMO_INTERVAL_MS
      const up = Math.sin(i / 7) > 0; // across each band every few seconds
      const input = scoreInput(
        'demo-levered',
        {
          currentDrawdown: up ? -0.11 : -0.07,
          sharpeRatio: up ? 0.4 : 0.7,
          annualVolatility: up ? 0.3 : 0.2,
          valueAtRisk: -0.05,
        },
        { count: RATIO_MIN_OBSERVATIONS + i },
      );
      out.push(...events(c.observe(input, `${at}-0`, at)), ...events(c.tick(at)));
    }
    expect(out).toEqual([
      'drawdown_exceeded:firing',
      'volatility_spike:firing',
      'sharpe_decline:firing',
    ]);
    expect(c.incidents.size).toBe(3);
  });

  it('fire var_exceeded on the first sample of a strategy the alerter never saw', () => {
    const c = defaults();
    const t = c.observe(scoreInput('new', { valueAtRisk: -0.3 }, { count: 20 }), `${T0}-0`, T0);
    expect(events(t)).toEqual(['var_exceeded:firing']);
  });
});
