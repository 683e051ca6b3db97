import { RETIRED_RULE, type AlertLabels, type AlertLevel, type RuleOrigin } from '@quantmon/shared';
import { DEFAULT_INHIBIT, DEFAULT_RULE_SPECS, RATIO_MIN_OBSERVATIONS } from './default-rules.js';
import { DEFAULT_FLAP, type FlapPolicy } from './flap-detector.js';
import type { ForecastPolicy } from './forecast.js';
import {
  isRatioMetric,
  metricReader,
  metricSource,
  spanReader,
  volumeReader,
  type RangeReader,
  type Reader,
  type RuleInput,
  type Source,
  type VolumeReader,
} from './metric-source.js';
import { ruleNames } from './inhibition.js';
import { nearest } from './nearest.js';
import {
  NEW_RULE_FIELDS,
  RulePatch,
  RuleSpec,
  RulesFile,
  TAG_SELECTOR,
  type Comparison,
  type InhibitRule,
  type NoDataSpec,
  type RuleOverride,
  type TagMatch,
} from './rule-spec.js';

export type { RuleInput };

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

/** A problem in a rules file, named by rule and field. */
export interface RuleIssue {
  rule: string | undefined;
  field: string;
  message: string;
}

export class RulesError extends Error {
  constructor(readonly issues: RuleIssue[]) {
    super(issues.map(formatRuleIssue).join('\n'));
    this.name = 'RulesError';
  }
}

export function formatRuleIssue(i: RuleIssue): string {
  const where = i.rule === undefined ? '' : `rule "${i.rule}", `;
  return `${where}field "${i.field || '(root)'}": ${i.message}`;
}

export const NO_DATA_RULE = 'no_data';

/** Flap detection turned off. */
export const NO_FLAP: FlapPolicy = { checks: 0, high: 1, low: 0 };

/**
 * The effective rule set: the defaults, patched and extended by a parsed
 * rules file (plain data from YAML or JSON). Throws RulesError naming every
 * bad rule and field. Pure.
 */
export function compileRules(file: unknown, noDataDefaultMs: number): RuleSet {
  const parsed = RulesFile.safeParse(file ?? {});
  if (!parsed.success) {
    throw new RulesError(
      parsed.error.issues.map((i) => {
        const path = i.path.map(String);
        if (path[0] === 'rules' && path.length >= 2) {
          return { rule: path[1], field: path.slice(2).join('.'), message: i.message };
        }
        return { rule: undefined, field: path.join('.'), message: i.message };
      }),
    );
  }
  const entries = parsed.data.rules ?? {};
  const issues: RuleIssue[] = [];
  const rules: CompiledRule[] = [];
  if (NO_DATA_RULE in entries) {
    issues.push({ rule: NO_DATA_RULE, field: '', message: 'reserved: configure it under noData' });
  }
  if (RETIRED_RULE in entries) {
    const message = 'reserved: the event recording DELETE /api/strategies/{id}';
    issues.push({ rule: RETIRED_RULE, field: '', message });
  }
  const names = new Set([...Object.keys(DEFAULT_RULE_SPECS), ...Object.keys(entries)]);
  for (const name of names) {
    if (name === NO_DATA_RULE || name === RETIRED_RULE) continue;
    const base = DEFAULT_RULE_SPECS[name];
    const own = RulePatch.safeParse(entries[name] ?? {});
    if (!own.success) {
      for (const i of own.error.issues) {
        issues.push({ rule: name, field: i.path.map(String).join('.'), message: i.message });
      }
      continue;
    }
    const patch = own.data;
    const merged = base
      ? {
          ...base,
          ...stripUndefined(patch),
          labels: { ...base.labels, ...patch.labels },
          overrides: mergeOverrides(base.overrides, patch.overrides),
        }
      : patch;
    const full = RuleSpec.safeParse(merged);
    const misspelt = base ? undefined : misspeltDefault(name, patch);
    if (misspelt) {
      issues.push(misspelt);
      continue;
    }
    if (!full.success) {
      for (const i of full.error.issues) {
        issues.push({ rule: name, field: i.path.map(String).join('.'), message: i.message });
      }
      continue;
    }
    if (full.data.enabled === false) continue;
    const origin: RuleOrigin = !base ? 'file' : name in entries ? 'override' : 'default';
    rules.push(compileRule(name, origin, full.data));
  }
  const inhibit = parsed.data.inhibit ?? DEFAULT_INHIBIT;
  if (parsed.data.inhibit) issues.push(...unknownInhibitRules(parsed.data.inhibit, names));
  if (issues.length > 0) throw new RulesError(issues);
  return { rules, noData: compileNoData(parsed.data.noData, noDataDefaultMs), inhibit };
}

/** Inhibition rules naming a rule that is neither a default nor in the file. */
function unknownInhibitRules(list: readonly InhibitRule[], names: Set<string>): RuleIssue[] {
  const known = [...names].filter((n) => n !== NO_DATA_RULE).concat(NO_DATA_RULE);
  const issues: RuleIssue[] = [];
  list.forEach((entry, i) => {
    for (const side of ['source', 'target'] as const) {
      for (const name of ruleNames(entry[side])) {
        if (known.includes(name)) continue;
        const hint = nearest(name, known);
        issues.push({
          rule: undefined,
          field: `inhibit.${i}.${side}.rule`,
          message: `unknown rule ${name}${hint ? `: did you mean ${hint}?` : ''} (rules: ${known.join(', ')})`,
        });
      }
    }
  });
  return issues;
}

/**
 * A file entry that is not a default and lacks the fields a new rule needs,
 * named like a default (within 3 edits): most likely a misspelt patch.
 */
function misspeltDefault(name: string, patch: RulePatch): RuleIssue | undefined {
  const missing = NEW_RULE_FIELDS.filter((f) => patch[f as keyof RulePatch] === undefined);
  if (missing.length === 0) return undefined;
  const suggestion = nearest(name, Object.keys(DEFAULT_RULE_SPECS));
  if (suggestion === undefined) return undefined;
  return {
    rule: name,
    field: '',
    message: `not a default rule: did you mean ${suggestion}? (a new rule also needs ${missing.join(', ')})`,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function mergeOverrides(
  a: Record<string, RuleOverride> | undefined,
  b: Record<string, RuleOverride> | undefined,
): Record<string, RuleOverride> {
  const out: Record<string, RuleOverride> = { ...a };
  for (const [id, o] of Object.entries(b ?? {})) out[id] = { ...out[id], ...stripUndefined(o) };
  return out;
}

function compileRule(name: string, origin: RuleOrigin, spec: RuleSpec): CompiledRule {
  const base: EffectiveRule = {
    name,
    metric: spec.metric,
    comparison: spec.comparison,
    threshold: spec.threshold,
    clearThreshold: spec.clearThreshold,
    level: spec.level,
    forMs: spec.for ?? 0,
    keepFiringMs: spec.keepFiringFor ?? 0,
    flap:
      spec.flap?.enabled === false
        ? NO_FLAP
        : {
            checks: spec.flap?.checks ?? DEFAULT_FLAP.checks,
            high: spec.flap?.high ?? DEFAULT_FLAP.high,
            low: spec.flap?.low ?? DEFAULT_FLAP.low,
          },
    repeatMs: spec.repeatInterval || undefined,
    labels: spec.labels ?? {},
    recommendation: spec.recommendation,
    action: spec.action,
    forecast: forecastPolicy(spec),
  };
  const overrides = new Map<string, EffectiveRule | null>();
  const idPatches = new Map<string, RuleOverride>();
  const tagOverrides: TagOverride[] = [];
  for (const [id, o] of Object.entries(spec.overrides ?? {})) {
    const tag = TAG_SELECTOR.exec(id);
    if (tag) {
      tagOverrides.push({ key: tag[1]!, value: tag[2]!, override: o });
      continue;
    }
    idPatches.set(id, o);
    overrides.set(id, applyOverride(base, o));
  }
  return {
    name,
    origin,
    source: metricSource(spec.metric) ?? 'score',
    subject: spec.subject,
    read: metricReader(spec.metric, spec.transform ?? 'none'),
    // A forecast judges the trend of the latest values: a span's extremes are no projection.
    span: spec.forecast ? undefined : spanReader(spec.metric, spec.transform ?? 'none'),
    minObservations:
      spec.minObservations ?? (isRatioMetric(spec.metric) ? RATIO_MIN_OBSERVATIONS : undefined),
    volume: volumeReader(spec.metric),
    minVolume: spec.minVolume ?? 0,
    startupGraceMs: spec.startupGrace ?? 0,
    base,
    overrides,
    match: spec.match,
    tagOverrides,
    idPatches,
    memo: new Map(),
  };
}

/** A rule with one override applied; null where it disables the rule. */
function applyOverride(base: EffectiveRule, o: RuleOverride): EffectiveRule | null {
  if (o.enabled === false) return null;
  const level = o.level ?? base.level;
  return {
    ...base,
    threshold: o.threshold ?? base.threshold,
    // A new threshold without its own clear threshold drops the base one (it may sit on the wrong side).
    clearThreshold:
      o.clearThreshold ?? (o.threshold === undefined ? base.clearThreshold : undefined),
    level,
    forMs: o.for ?? base.forMs,
    keepFiringMs: o.keepFiringFor ?? base.keepFiringMs,
    repeatMs: o.repeatInterval === undefined ? base.repeatMs : o.repeatInterval || undefined,
    labels: { ...base.labels, ...o.labels },
    recommendation: o.recommendation ?? base.recommendation,
    action: level === 'critical' ? base.action : undefined,
  };
}

function forecastPolicy(spec: RuleSpec): ForecastPolicy | undefined {
  const f = spec.forecast;
  if (!f) return undefined;
  return {
    window: f.window,
    minPoints: f.minPoints ?? f.window,
    axis: f.horizonTime === undefined ? 'periods' : 'time',
    horizon: f.horizonTime ?? f.horizon ?? 0,
  };
}

function compileNoData(spec: NoDataSpec | undefined, defaultMs: number): NoDataRule {
  const off = spec?.enabled === false;
  const after = off ? 0 : (spec?.after ?? defaultMs);
  const overrides = new Map<string, number>();
  for (const [id, o] of Object.entries(spec?.overrides ?? {})) {
    overrides.set(id, o.enabled === false || off ? 0 : (o.after ?? after));
  }
  return {
    strategyAfterMs: after,
    hostAfterMs: off ? 0 : (spec?.hostAfter ?? after),
    level: spec?.level ?? 'warning',
    recommendation:
      spec?.recommendation ??
      'No data from this subject: check that the strategy (or host collector) is running and can reach the collector.',
    labels: spec?.labels ?? {},
    overrides,
  };
}

/** The id part of a subject: `alpha` for `strategy/alpha`. */
export function subjectId(subject: string): string {
  const slash = subject.indexOf('/');
  return slash < 0 ? subject : subject.slice(slash + 1);
}

/**
 * The incident subject a rule assigns to an input's natural subject, or
 * undefined when the rule does not watch it.
 */
export function incidentSubject(rule: CompiledRule, natural: string): string | undefined {
  const sel = rule.subject;
  if (sel === 'system') return 'system';
  if (sel === 'strategy' || sel === 'host')
    return natural.startsWith(`${sel}/`) ? natural : undefined;
  return sel === natural ? natural : undefined;
}

/** Whether a strategy with these tags is one the rule watches (rules without `match` watch all). */
export function matchesTags(rule: CompiledRule, tags: SubjectTags): boolean {
  const m = rule.match;
  if (!m) return true;
  for (const [key, want] of Object.entries(m)) {
    const have = tags?.[key];
    if (have === undefined) return false;
    if (typeof want === 'string' ? have !== want : !want.includes(have)) return false;
  }
  return true;
}

/**
 * The rule as it applies to one natural subject with these tags: the base,
 * then each tag override whose tag the subject carries (file order), then
 * the subject's own override. Undefined where one of them disables it.
 */
export function effectiveRule(
  rule: CompiledRule,
  natural: string,
  tags?: SubjectTags,
): EffectiveRule | undefined {
  const id = subjectId(natural);
  const own = rule.overrides.get(id);
  if (rule.tagOverrides.length === 0 || !tags) return own === null ? undefined : (own ?? rule.base);
  let hits = '';
  rule.tagOverrides.forEach((t, i) => {
    if (tags[t.key] === t.value) hits += `${i},`;
  });
  if (hits === '') return own === null ? undefined : (own ?? rule.base);
  // By the overrides that apply (and the id only when it has its own): bounded by the file,
  // not by how many strategies come and go.
  const memoKey = rule.idPatches.has(id) ? `${id}|${hits}` : `|${hits}`;
  let eff = rule.memo.get(memoKey);
  if (eff === undefined) {
    let r: EffectiveRule | null = rule.base;
    for (const t of rule.tagOverrides) {
      if (r && tags[t.key] === t.value) r = applyOverride(r, t.override);
    }
    const patch = rule.idPatches.get(id);
    if (r && patch) r = applyOverride(r, patch);
    eff = r;
    rule.memo.set(memoKey, eff);
  }
  return eff ?? undefined;
}

/** The rule in force for an incident's rule and subject; undefined when gone or disabled. */
export function ruleForIncident(
  set: RuleSet,
  name: string,
  subject: string,
  tags?: SubjectTags,
): EffectiveRule | undefined {
  const rule = set.rules.find((r) => r.name === name);
  if (!rule) return undefined;
  return subject === 'system' ? rule.base : effectiveRule(rule, subject, tags);
}

/** The value of a range furthest past the limit in the rule's direction. */
export function worstOf(rule: EffectiveRule, range: readonly [number, number]): number {
  return rule.comparison === '>' || rule.comparison === '>=' ? range[1] : range[0];
}

export function compare(op: Comparison, value: number, limit: number): boolean {
  switch (op) {
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
  }
}

/** The condition that opens an incident. */
export function breaches(rule: EffectiveRule, value: number): boolean {
  return compare(rule.comparison, value, rule.threshold);
}

/** Whether a firing incident stays firing: past the clear threshold when there is one. */
export function stillBreaching(rule: EffectiveRule, value: number): boolean {
  return compare(rule.comparison, value, rule.clearThreshold ?? rule.threshold);
}

/** The defaults alone. */
export function defaultRuleSet(noDataMs: number): RuleSet {
  return compileRules({}, noDataMs);
}
