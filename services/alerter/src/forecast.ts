import { compareStreamIds } from '@quantmon/shared';

/**
 * Forecast rules (docs/alerts.md, "Forecast rules"): a least-squares line
 * through the last `window` values of a rule's metric on one subject,
 * extrapolated `horizon` ahead of the latest point, as Prometheus's
 * predict_linear does. The rule then compares the projected value with its
 * threshold, so "drawdown past 0.10 within 20 periods" fires while the
 * drawdown is still inside the limit. Pure; in memory only, like flap
 * detection: after a restart or a failover each subject's window refills
 * (`minPoints` observations) before its forecast is judged again.
 */

/** How a rule forecasts. */
export interface ForecastPolicy {
  /** Points kept per subject: the fit covers the latest this many. */
  window: number;
  /** Fewer points than this: no forecast (and the rule does not judge). */
  minPoints: number;
  /**
   * The x axis: `periods` counts samples (an update covering 5 conflated
   * samples advances it by 5), `time` is the sample time in epoch ms.
   */
  axis: 'periods' | 'time';
  /** How far past the latest point the line is read: periods, or milliseconds on the time axis. */
  horizon: number;
}

export function samePolicy(a: ForecastPolicy, b: ForecastPolicy): boolean {
  return (
    a.window === b.window &&
    a.minPoints === b.minPoints &&
    a.axis === b.axis &&
    a.horizon === b.horizon
  );
}

/** "20 periods", "10 min": for incident messages. */
export function describeHorizon(p: ForecastPolicy): string {
  if (p.axis === 'periods') return `${p.horizon} period${p.horizon === 1 ? '' : 's'}`;
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  for (const [ms, unit] of units) {
    if (p.horizon >= ms && p.horizon % ms === 0) return `${p.horizon / ms} ${unit}`;
  }
  return `${p.horizon} ms`;
}

/** A fitted line: slope per unit of x, and its value at the latest point. */
export interface Trend {
  slope: number;
  /** The line's value at the latest x (not the latest value itself). */
  atLatest: number;
  points: number;
}

/**
 * A bounded ring of (x, y) points with the sums of an ordinary
 * least-squares fit kept incrementally: O(1) per point. The sums are taken
 * over x relative to a base point, and rebuilt from the ring (with the base
 * moved to the oldest point) once per `capacity` points, so rounding from
 * adding and removing never accumulates and large x values (epoch ms) do not
 * cancel catastrophically in n*Sxx - Sx^2.
 */
export class TrendWindow {
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  /** Index of the oldest point. */
  private head = 0;
  private n = 0;
  private base = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;
  private sinceRebuild = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) {
      throw new RangeError(`a trend window holds 2 or more points, not ${capacity}`);
    }
    this.xs = new Float64Array(capacity);
    this.ys = new Float64Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  /** x of the latest point; undefined while empty. */
  get latestX(): number | undefined {
    return this.n === 0 ? undefined : this.xs[(this.head + this.n - 1) % this.capacity];
  }

  push(x: number, y: number): void {
    if (this.n === this.capacity) {
      const ox = this.xs[this.head]! - this.base;
      const oy = this.ys[this.head]!;
      this.sx -= ox;
      this.sy -= oy;
      this.sxx -= ox * ox;
      this.sxy -= ox * oy;
      this.head = (this.head + 1) % this.capacity;
      this.n--;
    }
    if (this.n === 0) this.base = x;
    const i = (this.head + this.n) % this.capacity;
    this.xs[i] = x;
    this.ys[i] = y;
    this.n++;
    const dx = x - this.base;
    this.sx += dx;
    this.sy += y;
    this.sxx += dx * dx;
    this.sxy += dx * y;
    if (++this.sinceRebuild >= this.capacity) this.rebuild();
  }

  /** The least-squares line; undefined with fewer than two distinct x. */
  fit(): Trend | undefined {
    const n = this.n;
    if (n < 2) return undefined;
    const mx = this.sx / n;
    const my = this.sy / n;
    const varx = this.sxx / n - mx * mx;
    // Every x equal (or equal to rounding): no slope can be fitted.
    const spread = this.latestX! - this.xs[this.head]!;
    if (!(varx > 0) || spread === 0) return undefined;
    const slope = (this.sxy / n - mx * my) / varx;
    const latest = this.latestX! - this.base;
    return { slope, atLatest: my + slope * (latest - mx), points: n };
  }

  /** The line's value `ahead` past the latest x (predict_linear). */
  predict(ahead: number): number | undefined {
    const t = this.fit();
    if (!t) return undefined;
    const v = t.atLatest + t.slope * ahead;
    return Number.isFinite(v) ? v : undefined;
  }

  private rebuild(): void {
    this.sinceRebuild = 0;
    this.base = this.xs[this.head]!;
    this.sx = this.sy = this.sxx = this.sxy = 0;
    for (let k = 0; k < this.n; k++) {
      const i = (this.head + k) % this.capacity;
      const dx = this.xs[i]! - this.base;
      const y = this.ys[i]!;
      this.sx += dx;
      this.sy += y;
      this.sxx += dx * dx;
      this.sxy += dx * y;
    }
  }
}

interface Series {
  policy: ForecastPolicy;
  ring: TrendWindow;
  /** Stream entry id of the latest point: a redelivered entry adds nothing. */
  lastEntry: string;
  /** Periods seen so far (the x of the latest point on the periods axis). */
  periods: number;
}

/** One observation of a rule's metric on a subject. */
export interface ForecastPoint {
  /** Stream entry id of the input (redeliveries are recognised by it). */
  entryId: string;
  /** The value the rule compares (after its transform). */
  value: number;
  /** Sample time, epoch ms (the time axis). */
  ts: number;
  /** Samples this input covers (a conflated score update: its span's samples), for the periods axis. */
  samples: number;
}

/**
 * The trend windows of every forecast rule on every subject, keyed by rule
 * and subject. `project` adds a point and returns the projected value.
 */
export class Forecaster {
  private readonly series = new Map<string, Series>();

  /**
   * Add a point to the rule's window on this subject and return the value
   * projected `horizon` ahead; undefined while the window holds fewer than
   * `minPoints` points or no slope can be fitted. An entry not newer than the
   * window's latest (a redelivery, or a replay after a failed write) adds
   * nothing: the projection is that of the window as it stands. A time that
   * goes backwards (a strategy re-sending old samples) restarts the window.
   */
  project(key: string, policy: ForecastPolicy, p: ForecastPoint): number | undefined {
    let s = this.series.get(key);
    if (s && !samePolicy(s.policy, policy)) s = undefined;
    if (!s) {
      s = { policy, ring: new TrendWindow(policy.window), lastEntry: '', periods: 0 };
      this.series.set(key, s);
    }
    if (s.lastEntry === '' || compareStreamIds(p.entryId, s.lastEntry) > 0) {
      const x = policy.axis === 'time' ? p.ts : s.periods + p.samples;
      const last = s.ring.latestX;
      if (policy.axis === 'time' && last !== undefined && x < last) {
        s.ring = new TrendWindow(policy.window);
      }
      s.ring.push(x, p.value);
      s.periods += p.samples;
      s.lastEntry = p.entryId;
    }
    if (s.ring.size < policy.minPoints) return undefined;
    return s.ring.predict(policy.horizon);
  }

  /** Keep only the series whose key passes (rules removed on a reload are dropped). */
  retain(keep: (key: string) => boolean): void {
    for (const key of this.series.keys()) if (!keep(key)) this.series.delete(key);
  }

  get size(): number {
    return this.series.size;
  }
}
