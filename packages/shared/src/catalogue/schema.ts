import { z } from 'zod';
import { FiniteNumber, StrategyId } from '../schemas/common.js';
import { DerivedMetrics } from '../expr/derived.js';
import { Duration } from './duration.js';

/**
 * The strategy catalogue file (STRATEGIES_FILE, YAML or JSON; README
 * "Strategy catalogue"): parameters, windows and tags per strategy id or
 * per pattern of ids. Validated here, compiled by compileCatalogue
 * (resolve.ts), read by load.ts.
 */

/** Tag keys are Prometheus label names (lower case), so tags can become Alertmanager labels as they are. */
export const TagKey = z
  .string()
  .regex(
    /^[a-z_][a-z0-9_]{0,62}$/,
    'must be 1-63 characters of a-z 0-9 _, not starting with a digit',
  );
export const TagValue = z.string().min(1).max(128);
/** desk, manager, asset_class, or any other key. */
export const Tags = z.record(TagKey, TagValue).refine((t) => Object.keys(t).length <= 32, {
  message: 'at most 32 tags',
});
export type Tags = z.infer<typeof Tags>;

/** A window's name in score updates (`windows.<name>`): `60`, `1d`, `ytd-ish`... */
export const WindowName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,32}$/, 'must be 1-32 characters of A-Z a-z 0-9 _ . -');

export const MAX_WINDOW_COUNT = 1_000_000;
const WindowCount = z.number().int().min(2).max(MAX_WINDOW_COUNT);

/**
 * One extra window: a count (`60`, or `"60"`), a duration (`1d`: the
 * samples of the last day, at most `count`), or both with a name.
 */
export const WindowSpec = z.union(
  [
    WindowCount,
    z.string().regex(/^\d+$/).pipe(z.coerce.number()).pipe(WindowCount),
    Duration,
    z
      .strictObject({
        name: WindowName.optional(),
        count: WindowCount.optional(),
        time: Duration.optional(),
      })
      .refine((w) => w.count !== undefined || w.time !== undefined, {
        message: 'a window needs a count, a time, or both',
      }),
  ],
  {
    error:
      'must be a sample count (e.g. 60), a duration (e.g. 1d, 1w, 1M) or {name?, count?, time?}',
  },
);
export type WindowSpec = z.infer<typeof WindowSpec>;

/**
 * What a catalogue entry may set. Every field is optional: an entry sets
 * what it sets and the less specific entries (and the scorer's
 * environment) give the rest. Rates are per period unless named Annual.
 */
export const CatalogueEntry = z
  .strictObject({
    displayName: z.string().min(1).max(128).optional(),
    /** Periods per year used to annualise (252 for daily samples) ... */
    periodsPerYear: FiniteNumber.pipe(z.number().positive()).optional(),
    /** ... or the sampling interval it is derived from (see periodsFromInterval). */
    interval: Duration.optional(),
    /** Length of a trading day, for an intraday interval; default 6.5h (390 minutes). */
    tradingDay: Duration.refine((s) => !s.endsWith('w') && !s.endsWith('M') && !s.endsWith('y'), {
      message: 'must be at most a day',
    }).optional(),
    /** Trading days in a year; default 252. */
    tradingDaysPerYear: FiniteNumber.pipe(z.number().positive().max(366)).optional(),
    /** Risk-free return per period ... */
    riskFree: FiniteNumber.optional(),
    /** ... or per year, turned per period as (1 + r)^(1 / periodsPerYear) - 1 (empyrical's omega_ratio). */
    riskFreeAnnual: FiniteNumber.pipe(z.number().gt(-1)).optional(),
    /** Required (minimum acceptable) return per period, for downside risk, Sortino and omega ... */
    requiredReturn: FiniteNumber.optional(),
    /** ... or per year, converted as riskFreeAnnual is. */
    requiredReturnAnnual: FiniteNumber.pipe(z.number().gt(-1)).optional(),
    /** The main window: the last `window` samples (SCORER_WINDOW by default). */
    window: WindowCount.optional(),
    /** The main window by time too: samples older than this before the latest leave it. */
    windowTime: Duration.optional(),
    /**
     * The strategy (or index) this one is compared with: the collector fills a
     * sample's missing benchmarkReturn from its sample with the same ts
     * (services/collector/src/benchmark-fill.ts).
     */
    benchmark: StrategyId.optional(),
    tags: Tags.optional(),
    /** Extra windows, each with the full metric set, under `windows.<name>` in score updates. */
    windows: z.array(WindowSpec).max(16).optional(),
  })
  .superRefine(
    (e, ctx) => {
      const both = (a: keyof typeof e, b: keyof typeof e): void => {
        if (e[a] !== undefined && e[b] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [b], message: `set ${a} or ${b}, not both` });
        }
      };
      both('periodsPerYear', 'interval');
      both('riskFree', 'riskFreeAnnual');
      both('requiredReturn', 'requiredReturnAnnual');
      // Also when other fields are bad: every problem is named in one pass.
    },
    { when: (p) => typeof p.value === 'object' && p.value !== null },
  );
export type CatalogueEntry = z.infer<typeof CatalogueEntry>;

/** A strategy id, or a pattern of ids: `*` any run of characters, `?` one character. */
export const StrategyPattern = z
  .string()
  .regex(
    /^[A-Za-z0-9_.*?-]{1,64}$/,
    'must be a strategy id or a pattern of 1-64 characters of A-Z a-z 0-9 _ . - with * and ?',
  );

export const CatalogueFile = z.strictObject({
  /** Applies to every strategy, below any pattern. */
  defaults: CatalogueEntry.optional(),
  /** Entries by strategy id or pattern (precedence: match.ts). */
  strategies: z.record(StrategyPattern, CatalogueEntry).optional(),
  /** Derived metrics for every strategy: name and expression (expr/derived.ts), in `derived` of score updates. */
  derived: DerivedMetrics.optional(),
});
export type CatalogueFile = z.infer<typeof CatalogueFile>;

/**
 * The catalogue set through the gateway's admin API (`PUT /api/catalogue`),
 * stored in Redis (`keys.catalogueDoc`): while it exists every service uses
 * it instead of STRATEGIES_FILE. `version` grows with each change.
 */
export const CatalogueDocument = z.strictObject({
  version: z.number().int().positive(),
  catalogue: CatalogueFile,
  by: z.string().min(1).max(128),
  at: z.number().int().nonnegative(),
  comment: z.string().max(1024).optional(),
});
export type CatalogueDocument = z.infer<typeof CatalogueDocument>;
