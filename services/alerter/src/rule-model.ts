import type { AlertLabels, AlertLevel, RuleOrigin } from '@quantmon/shared';
import type { FlapPolicy } from './flap-detector.js';
import type { ForecastPolicy } from './forecast.js';
import type { RangeReader, Reader, Source, VolumeReader } from './metric-source.js';
import type { Comparison, InhibitRule, RuleOverride, TagMatch } from './rule-spec.js';

/*
 * The compiled form of the alert rules: what compileRules (rules.ts) builds
 * from a rules file and the alerter's core judges inputs with.
 */

/** A rule as it applies to one subject (its overrides folded in). */
export interface EffectiveRule {
  name: string;
  metric: string;
  comparison: Comparison;
  threshold: number;
  clearThreshold: number | undefined;
  level: AlertLevel;
  forMs: number;
  /** A firing incident resolves once clear this long (0: at once). */
  keepFiringMs: number;
  /** Flap detection (checks 0: off). */
  flap: FlapPolicy;
  repeatMs: number | undefined;
  labels: AlertLabels;
  recommendation: string;
  /** Emergency job name (critical rules only). */
  action: string | undefined;
  /** Forecast rules: the value compared is the one projected ahead (the whole rule's, not overridable). */
  forecast?: ForecastPolicy | undefined;
}

export interface CompiledRule {
  name: string;
  /** A built-in default, a rule new in the file, or a default the file patches. */
  origin: RuleOrigin;
  source: Source;
  /** `system`, `host`, `strategy`, or one subject such as `strategy/alpha`. */
  subject: string;
  read: Reader;
  /** Score rules: the range the metric covered over a conflated update's samples. */
  span: RangeReader | undefined;
  /** Its own minimum, or the floor of annualised ratios; undefined: ALERTER_MIN_OBSERVATIONS. */
  minObservations: number | undefined;
  /** Rates: the operation count behind the value, where the metric has one. */
  volume: VolumeReader | undefined;
  /** A rate over fewer operations is not judged; 0: no minimum. */
  minVolume: number;
  /** Host metrics: no new incident until a host has reported this long; 0: none. */
  startupGraceMs: number;
  base: EffectiveRule;
  /** Per subject id: its own rule, or null where the rule is disabled for it. */
  overrides: Map<string, EffectiveRule | null>;
  /** Strategy rules: the tags a strategy must carry to be watched; undefined: every strategy. */
  match: TagMatch | undefined;
  /** Overrides by strategy tag (`desk=rates`), in file order: over the base, under an id's own. */
  tagOverrides: TagOverride[];
  /** An id's own override as written, to apply over its tag overrides. */
  idPatches: Map<string, RuleOverride>;
  /** Effective rules of subjects with tag overrides, by id and the overrides that applied. */
  memo: Map<string, EffectiveRule | null>;
}

export interface TagOverride {
  key: string;
  value: string;
  override: RuleOverride;
}

/** Strategy tags as score updates carry them. */
export type SubjectTags = Readonly<Record<string, string>> | undefined;

export interface NoDataRule {
  strategyAfterMs: number;
  hostAfterMs: number;
  level: AlertLevel;
  recommendation: string;
  labels: AlertLabels;
  /** Per subject id: its own `after` (0 = off). */
  overrides: Map<string, number>;
}

export interface RuleSet {
  rules: CompiledRule[];
  noData: NoDataRule;
  /** Inhibition rules: the file's `inhibit` list, else DEFAULT_INHIBIT. */
  inhibit: readonly InhibitRule[];
}

export const NO_DATA_RULE = 'no_data';

/** Flap detection turned off. */
export const NO_FLAP: FlapPolicy = { checks: 0, high: 1, low: 0 };
