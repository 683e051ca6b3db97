import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';
import { globToRegExp } from './match.js';
import {
  CatalogueError,
  compileCatalogue,
  DEFAULT_STRATEGY_PARAMS,
  emptyCatalogue,
  periodsFromInterval,
  perPeriod,
  resolveStrategy,
} from './resolve.js';

const issuesOf = (raw: unknown): { path: string; message: string }[] => {
  try {
    compileCatalogue(raw);
  } catch (err) {
    if (err instanceof CatalogueError) return err.issues;
    throw err;
  }
  throw new Error('expected a CatalogueError');
};

describe('durations', () => {
  it('parse the units, months as 30 days, and refuse anything else', () => {
    expect(parseDuration('1m')?.ms).toBe(60_000);
    expect(parseDuration('6.5h')?.ms).toBe(23_400_000);
    expect(parseDuration('1M')?.ms).toBe(30 * 86_400_000);
    expect(parseDuration('250ms')?.ms).toBe(250);
    for (const bad of ['', '1', 'm', '1 m', '-1d', '0d', '1D', '1mo', '1h30m']) {
      expect(parseDuration(bad), bad).toBeUndefined();
    }
  });
});

describe('periods per year from an interval', () => {
  it('counts sampling intervals in trading time, as the issue states for minutes (390 x 252)', () => {
    expect(periodsFromInterval('1m')).toBe(98_280);
    expect(periodsFromInterval('1h')).toBeCloseTo(6.5 * 252, 12);
    expect(periodsFromInterval('5m', '24h', 365)).toBe(288 * 365);
    expect(periodsFromInterval('1d')).toBe(252);
    expect(periodsFromInterval('2d')).toBe(126);
    expect(periodsFromInterval('1w')).toBe(52);
    expect(periodsFromInterval('1M')).toBe(12);
    expect(periodsFromInterval('3M')).toBe(4);
    expect(periodsFromInterval('1y')).toBe(1);
  });

  it('turns annual rates into per-period ones as empyrical does', () => {
    expect(perPeriod(0.05, 252)).toBeCloseTo(1.05 ** (1 / 252) - 1, 15);
    expect(perPeriod(0, 98_280)).toBe(0);
  });
});

describe('patterns', () => {
  it('match whole ids, * any run and ? one character, with regex characters literal', () => {
    expect(globToRegExp('fx-*').test('fx-eurusd')).toBe(true);
    expect(globToRegExp('fx-*').test('xfx-eurusd')).toBe(false);
    expect(globToRegExp('fx-*').test('fx-')).toBe(true);
    expect(globToRegExp('a?c').test('abc')).toBe(true);
    expect(globToRegExp('a?c').test('ac')).toBe(false);
    expect(globToRegExp('a.c').test('abc')).toBe(false);
  });
});

describe('resolveStrategy', () => {
  it("gives a strategy outside the catalogue today's defaults, with no extra window", () => {
    const r = resolveStrategy(emptyCatalogue(), 'alpha');
    expect(r.params).toEqual(DEFAULT_STRATEGY_PARAMS);
    expect(r.windows).toEqual([]);
    expect(r.tags).toEqual({});
    expect(r.displayName).toBe('alpha');
    expect(r.benchmark).toBeNull();
    expect(r.matched).toEqual([]);
    const base = { periodsPerYear: 12, riskFree: 0.001, requiredReturn: 0.002, window: 60 };
    expect(resolveStrategy(compileCatalogue(null, base), 'alpha').params).toEqual(base);
  });

  it('applies defaults, then patterns by specificity, then the exact id, field by field', () => {
    const c = compileCatalogue({
      defaults: { tags: { desk: 'none', owner: 'risk' }, windows: [60] },
      strategies: {
        'fx-eur*': { displayName: 'EUR crosses', tags: { asset_class: 'fx-eur' } },
        '*': { window: 500 },
        'fx-*': { interval: '1m', tags: { desk: 'fx', asset_class: 'fx' }, windows: [20, '1d'] },
        'fx-eurusd': { benchmark: 'dxy', tags: { manager: 'ann' } },
      },
    });
    const r = resolveStrategy(c, 'fx-eurusd');
    expect(r.matched).toEqual(['defaults', '*', 'fx-*', 'fx-eur*', 'fx-eurusd']);
    expect(r.displayName).toBe('EUR crosses');
    expect(r.benchmark).toBe('dxy');
    expect(r.tags).toEqual({ desk: 'fx', owner: 'risk', asset_class: 'fx-eur', manager: 'ann' });
    expect(r.params.periodsPerYear).toBe(98_280);
    expect(r.params.window).toBe(500);
    // windows: replaced as a whole by the more specific entry; a 1d time window of a 1m strategy holds 1441 at most.
    expect(r.windows).toEqual([
      { name: '20', count: 20 },
      { name: '1d', count: 1441, timeMs: 86_400_000 },
    ]);
    const other = resolveStrategy(c, 'rates-1');
    expect(other.matched).toEqual(['defaults', '*']);
    expect(other.windows).toEqual([{ name: '60', count: 60 }]);
    expect(other.params.periodsPerYear).toBe(252);
  });

  it('lets the earlier-listed of two equally specific patterns win', () => {
    const c = compileCatalogue({
      strategies: { 'a-*': { displayName: 'first' }, '*-b': { displayName: 'second' } },
    });
    expect(resolveStrategy(c, 'a-b').displayName).toBe('first');
    expect(resolveStrategy(c, 'a-b').matched).toEqual(['*-b', 'a-*']);
  });

  it('lets the more specific entry choose between periodsPerYear and interval, and annual or per-period rates', () => {
    const c = compileCatalogue({
      strategies: {
        'h-*': { interval: '1h', tradingDay: '24h', tradingDaysPerYear: 365, riskFreeAnnual: 0.04 },
        'h-weekly': { periodsPerYear: 52, riskFree: 0.0001 },
      },
    });
    const h = resolveStrategy(c, 'h-1');
    expect(h.params.periodsPerYear).toBe(24 * 365);
    expect(h.params.riskFree).toBeCloseTo(1.04 ** (1 / 8760) - 1, 15);
    const w = resolveStrategy(c, 'h-weekly');
    expect(w.params.periodsPerYear).toBe(52);
    expect(w.params.riskFree).toBe(0.0001);
  });

  it('skips a listed window equal to the main one and names object windows', () => {
    const c = compileCatalogue({
      defaults: {
        window: 250,
        windowTime: '1y',
        windows: [{ count: 250, time: '1y' }, { name: 'q', count: 63 }, { time: '1w' }, '120'],
      },
    });
    const r = resolveStrategy(c, 'x');
    expect(r.params).toMatchObject({ window: 250, windowMs: 365 * 86_400_000 });
    expect(r.windows).toEqual([
      { name: 'q', count: 63 },
      { name: '1w', count: 250, timeMs: 7 * 86_400_000 },
      { name: '120', count: 120 },
    ]);
  });

  it('changes paramsKey with what the windows are computed with, not with tags or names', () => {
    const a = resolveStrategy(compileCatalogue({ defaults: { tags: { desk: 'a' } } }), 's');
    const b = resolveStrategy(
      compileCatalogue({ defaults: { displayName: 'S', tags: { desk: 'b' } } }),
      's',
    );
    const c = resolveStrategy(compileCatalogue({ defaults: { periodsPerYear: 12 } }), 's');
    const d = resolveStrategy(compileCatalogue({ defaults: { windows: [60] } }), 's');
    expect(a.paramsKey).toBe(b.paramsKey);
    expect(c.paramsKey).not.toBe(a.paramsKey);
    expect(d.paramsKey).not.toBe(a.paramsKey);
  });

  it('gives equal catalogues equal versions and returns the same frozen answer per id', () => {
    const raw = { strategies: { 'x-*': { periodsPerYear: 12 } } };
    const c = compileCatalogue(raw);
    expect(compileCatalogue(structuredClone(raw)).version).toBe(c.version);
    expect(compileCatalogue({}).version).not.toBe(c.version);
    const r = resolveStrategy(c, 'x-1');
    expect(resolveStrategy(c, 'x-1')).toBe(r);
    expect(Object.isFrozen(r.params)).toBe(true);
  });
});

describe('validation', () => {
  it('names every bad entry and field', () => {
    const issues = issuesOf({
      strategies: {
        'bad id!': {},
        ok: {
          periodsPerYear: 252,
          interval: '1m',
          riskFree: 0,
          riskFreeAnnual: 0.01,
          window: 1,
          windows: [1, '1x', { name: 'n' }],
          tags: { Desk: 'x', desk: '' },
          colour: 'red',
        },
      },
      extra: true,
    });
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'strategies.bad id!',
        'strategies.ok.interval',
        'strategies.ok.riskFreeAnnual',
        'strategies.ok.window',
        'strategies.ok.windows.0',
        'strategies.ok.windows.1',
        'strategies.ok.windows.2',
        'strategies.ok.tags.Desk',
        'strategies.ok.tags.desk',
        'strategies.ok',
        '(top level)',
      ]),
    );
    expect(issues.find((i) => i.path === 'strategies.ok.interval')?.message).toMatch(
      /periodsPerYear or interval/,
    );
  });

  it('refuses two windows of one entry with the same name', () => {
    expect(issuesOf({ defaults: { windows: [60, '60'] } })).toEqual([
      { path: 'defaults.windows.1', message: 'window name "60" repeated' },
    ]);
  });

  it('treats an empty file as the empty catalogue', () => {
    expect(compileCatalogue(null).version).toBe(emptyCatalogue().version);
  });
});

describe('examples/strategies.yaml', () => {
  it('loads, and resolves as its comments say', async () => {
    const { loadCatalogueFile } = await import('./load.js');
    const path = new URL('../../../../examples/strategies.yaml', import.meta.url).pathname;
    const c = await loadCatalogueFile(path);
    const fx = resolveStrategy(c, 'fx-eurusd');
    expect(fx.params.periodsPerYear).toBe(98_280);
    expect(fx.params.riskFree).toBeCloseTo(1.04 ** (1 / 98_280) - 1, 15);
    expect(fx.windows.map((w) => w.name)).toEqual(['60', '390', '1d']);
    expect(resolveStrategy(c, 'crypto-btc').params.periodsPerYear).toBe(288 * 365);
    expect(resolveStrategy(c, 'macro-1').params.periodsPerYear).toBeCloseTo(1638, 9);
    const mom = resolveStrategy(c, 'eq-momentum-us');
    expect(mom).toMatchObject({ displayName: 'US momentum', benchmark: 'spx' });
    expect(mom.tags).toEqual({ desk: 'equities', asset_class: 'equity', manager: 'bo' });
    expect(mom.windows.at(-1)).toEqual({ name: 'quarter', count: 63, timeMs: 30 * 86_400_000 });
    expect(resolveStrategy(c, 'other').tags).toEqual({ desk: 'unassigned' });
    expect(resolveStrategy(c, 'other').params.periodsPerYear).toBe(252);
  });
});
