import { createHash } from 'node:crypto';
import { DURATION_UNITS_MS, parseDuration } from './duration.js';
import { EntryMatcher } from './match.js';
import { CatalogueFile, type CatalogueEntry, type WindowSpec } from './schema.js';

/**
 * The catalogue compiled for lookups, and resolveStrategy: what a strategy
 * is scored with. Pure (no I/O); load.ts reads files and Redis.
 */

/** The parameters a strategy's windows are computed with (rates per period). */
export interface StrategyParams {
  periodsPerYear: number;
  riskFree: number;
  requiredReturn: number;
  /** The main window's sample count. */
  window: number;
  /** The main window by time too (ms), when set. */
  windowMs?: number;
}

/**
 * Today's defaults, as packages/shared/src/config/scorer.ts gives them with
 * nothing set (PERIODS_PER_YEAR, RISK_FREE, REQUIRED_RETURN, SCORER_WINDOW).
 * The scorer passes its configured values instead (strategyDefaults).
 */
export const DEFAULT_STRATEGY_PARAMS: Readonly<StrategyParams> = Object.freeze({
  periodsPerYear: 252,
  riskFree: 0,
  requiredReturn: 0,
  window: 1000,
});

/** The defaults for deriving periods per year from an interval: a 390-minute session, 252 sessions a year. */
export const DEFAULT_TRADING_DAY = '6.5h';
export const DEFAULT_TRADING_DAYS_PER_YEAR = 252;

/** An extra window, resolved: its name in score updates, its sample count, its time span. */
export interface ResolvedWindow {
  name: string;
  count: number;
  timeMs?: number;
}

export interface ResolvedStrategy {
  id: string;
  /** The catalogue's displayName, else the id. */
  displayName: string;
  benchmark: string | null;
  tags: Record<string, string>;
  params: StrategyParams;
  /** Extra windows (the main window is `params.window` / `params.windowMs`). */
  windows: ResolvedWindow[];
  /** The entries that applied, least specific first (`defaults` included); empty: today's defaults. */
  matched: string[];
  /**
   * Fingerprint of what the windows are computed with (params and windows):
   * when it changes the strategy's windows must be rebuilt. Tags and the
   * display name are not in it.
   */
  paramsKey: string;
}

export interface Catalogue {
  /** Content hash of the validated file: equal catalogues have equal versions. */
  readonly version: string;
  readonly base: Readonly<StrategyParams>;
  readonly file: CatalogueFile;
  /** @internal */
  readonly matcher: EntryMatcher<CatalogueEntry>;
  /** @internal resolveStrategy's memo, per id. */
  readonly memo: Map<string, ResolvedStrategy>;
}

export interface CatalogueIssue {
  /** Path in the file, e.g. `strategies.fx-*.windows.1`. */
  path: string;
  message: string;
}

/** A catalogue that fails validation: every bad entry and field named. */
export class CatalogueError extends Error {
  constructor(readonly issues: CatalogueIssue[]) {
    super(
      `invalid strategy catalogue:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
    );
    this.name = 'CatalogueError';
  }
}

/**
 * Validate and compile a catalogue (the parsed YAML or JSON). Throws
 * CatalogueError naming every problem. null/undefined (an empty file) is
 * the empty catalogue: every strategy gets `base`.
 */
export function compileCatalogue(
  raw: unknown,
  base: Readonly<StrategyParams> = DEFAULT_STRATEGY_PARAMS,
): Catalogue {
  const parsed = CatalogueFile.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new CatalogueError(
      parsed.error.issues.map((i) => ({
        path: i.path.map(String).join('.') || '(top level)',
        message: i.message,
      })),
    );
  }
  const file = parsed.data;
  const issues: CatalogueIssue[] = [];
  const entries = Object.entries(file.strategies ?? {});
  const check = (path: string, e: CatalogueEntry): void => {
    const names = new Set<string>();
    (e.windows ?? []).forEach((w, i) => {
      const name = windowOf(w, base.window).name;
      if (names.has(name)) {
        issues.push({ path: `${path}.windows.${i}`, message: `window name "${name}" repeated` });
      }
      names.add(name);
    });
  };
  if (file.defaults) check('defaults', file.defaults);
  for (const [key, e] of entries) check(`strategies.${key}`, e);
  if (issues.length > 0) throw new CatalogueError(issues);
  const matcher = new EntryMatcher(entries.map(([key, entry], order) => ({ key, entry, order })));
  const version = createHash('sha256').update(JSON.stringify(file)).digest('hex').slice(0, 16);
  return { version, base: { ...base }, file, matcher, memo: new Map() };
}

/** The empty catalogue: every strategy on `base`. */
export function emptyCatalogue(
  base: Readonly<StrategyParams> = DEFAULT_STRATEGY_PARAMS,
): Catalogue {
  return compileCatalogue({}, base);
}

/**
 * Periods per year from a sampling interval:
 * - under a day: trading days per year x samples per trading day
 *   (`1m` with a 6.5h day and 252 days: 390 x 252 = 98 280);
 * - `w`, `M`, `y`: 52, 12 and 1 per year (empyrical's WEEKLY, MONTHLY, YEARLY), divided by the count;
 * - whole days otherwise: trading days per year / days (`1d`: 252).
 */
export function periodsFromInterval(
  interval: string,
  tradingDay: string = DEFAULT_TRADING_DAY,
  tradingDaysPerYear: number = DEFAULT_TRADING_DAYS_PER_YEAR,
): number {
  const i = parseDuration(interval);
  const day = parseDuration(tradingDay);
  if (!i || !day) throw new RangeError(`not a duration: ${!i ? interval : tradingDay}`);
  if (i.ms < DURATION_UNITS_MS.d) return (tradingDaysPerYear * day.ms) / i.ms;
  if (i.unit === 'w') return 52 / i.value;
  if (i.unit === 'M') return 12 / i.value;
  if (i.unit === 'y') return 1 / i.value;
  return (tradingDaysPerYear * DURATION_UNITS_MS.d) / i.ms;
}

/** empyrical's conversion of an annual rate to one period: (1 + r)^(1 / periodsPerYear) - 1. */
export const perPeriod = (annual: number, periodsPerYear: number): number =>
  (1 + annual) ** (1 / periodsPerYear) - 1;

/**
 * A window spec, resolved. A time window holds at most `count` samples:
 * given, else one per interval over its span when the interval is known,
 * else the main window's count.
 */
function windowOf(w: WindowSpec, mainCount: number, intervalMs?: number): ResolvedWindow {
  const timeCap = (ms: number): number =>
    intervalMs !== undefined ? Math.max(2, Math.ceil(ms / intervalMs) + 1) : mainCount;
  if (typeof w === 'number') return { name: String(w), count: w };
  if (typeof w === 'string') {
    const ms = parseDuration(w)!.ms;
    return { name: w, count: Math.min(timeCap(ms), 1_000_000), timeMs: ms };
  }
  const timeMs = w.time !== undefined ? parseDuration(w.time)!.ms : undefined;
  const count = w.count ?? Math.min(timeCap(timeMs!), 1_000_000);
  return {
    name: w.name ?? w.time ?? String(count),
    count,
    ...(timeMs !== undefined ? { timeMs } : {}),
  };
}

/**
 * What strategy `id` is scored with: the matching entries applied over the
 * catalogue's base (today's defaults) in precedence order (match.ts), field
 * by field; tags merge key by key, `windows` is replaced as a whole.
 * Within one field group the most specific entry decides: periodsPerYear
 * versus interval, riskFree versus riskFreeAnnual, requiredReturn versus
 * requiredReturnAnnual.
 */
/**
 * Drop `id` from the memo: a service that forgets a strategy (idle, retired)
 * calls it, or the memo would keep every churned-out id until its cap.
 */
export function forgetResolved(catalogue: Catalogue, id: string): void {
  catalogue.memo.delete(id);
}

export function resolveStrategy(catalogue: Catalogue, id: string): ResolvedStrategy {
  const hit = catalogue.memo.get(id);
  if (hit) return hit;
  const layers: { key: string; entry: CatalogueEntry }[] = [];
  if (catalogue.file.defaults) layers.push({ key: 'defaults', entry: catalogue.file.defaults });
  layers.push(...catalogue.matcher.match(id));

  const { base } = catalogue;
  let ann: { periodsPerYear: number } | { interval: string } = {
    periodsPerYear: base.periodsPerYear,
  };
  let tradingDay = DEFAULT_TRADING_DAY;
  let tradingDays = DEFAULT_TRADING_DAYS_PER_YEAR;
  let rf: { value: number; annual: boolean } = { value: base.riskFree, annual: false };
  let mar: { value: number; annual: boolean } = { value: base.requiredReturn, annual: false };
  let window = base.window;
  let windowMs = base.windowMs;
  let displayName: string | undefined;
  let benchmark: string | undefined;
  let specs: WindowSpec[] = [];
  const tags: Record<string, string> = {};
  for (const { entry: e } of layers) {
    if (e.periodsPerYear !== undefined) ann = { periodsPerYear: e.periodsPerYear };
    if (e.interval !== undefined) ann = { interval: e.interval };
    if (e.tradingDay !== undefined) tradingDay = e.tradingDay;
    if (e.tradingDaysPerYear !== undefined) tradingDays = e.tradingDaysPerYear;
    if (e.riskFree !== undefined) rf = { value: e.riskFree, annual: false };
    if (e.riskFreeAnnual !== undefined) rf = { value: e.riskFreeAnnual, annual: true };
    if (e.requiredReturn !== undefined) mar = { value: e.requiredReturn, annual: false };
    if (e.requiredReturnAnnual !== undefined) mar = { value: e.requiredReturnAnnual, annual: true };
    if (e.window !== undefined) window = e.window;
    if (e.windowTime !== undefined) windowMs = parseDuration(e.windowTime)!.ms;
    if (e.displayName !== undefined) displayName = e.displayName;
    if (e.benchmark !== undefined) benchmark = e.benchmark;
    if (e.windows !== undefined) specs = e.windows;
    if (e.tags) Object.assign(tags, e.tags);
  }
  const periodsPerYear =
    'interval' in ann
      ? periodsFromInterval(ann.interval, tradingDay, tradingDays)
      : ann.periodsPerYear;
  const intervalMs = 'interval' in ann ? parseDuration(ann.interval)!.ms : undefined;
  const params: StrategyParams = {
    periodsPerYear,
    riskFree: rf.annual ? perPeriod(rf.value, periodsPerYear) : rf.value,
    requiredReturn: mar.annual ? perPeriod(mar.value, periodsPerYear) : mar.value,
    window,
    ...(windowMs !== undefined ? { windowMs } : {}),
  };
  const windows: ResolvedWindow[] = [];
  for (const spec of specs) {
    const w = windowOf(spec, window, intervalMs);
    // The main window is the update's top-level fields already.
    if (w.count === params.window && w.timeMs === params.windowMs) continue;
    windows.push(w);
  }
  // Shared by every caller through the memo: frozen, never to be changed.
  const resolved: ResolvedStrategy = {
    id,
    displayName: displayName ?? id,
    benchmark: benchmark ?? null,
    tags,
    params,
    windows,
    matched: layers.map((l) => l.key),
    paramsKey: JSON.stringify([params, windows]),
  };
  Object.freeze(resolved.params);
  Object.freeze(resolved.tags);
  Object.freeze(resolved.windows);
  Object.freeze(resolved);
  // Bounded: a flood of one-off ids (API lookups, churn) must not grow the
  // memo forever; a cleared memo only costs a re-resolution per id.
  if (catalogue.memo.size >= 20_000) catalogue.memo.clear();
  catalogue.memo.set(id, resolved);
  return resolved;
}
