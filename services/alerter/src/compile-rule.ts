import type { RuleOrigin } from '@quantmon/shared';
import { RATIO_MIN_OBSERVATIONS } from './default-rules.js';
import { applyOverride } from './effective-rule.js';
import { DEFAULT_FLAP } from './flap-detector.js';
import type { ForecastPolicy } from './forecast.js';
import {
  isRatioMetric,
  metricReader,
  metricSource,
  spanReader,
  volumeReader,
} from './metric-source.js';
import {
  NO_FLAP,
  type CompiledRule,
  type EffectiveRule,
  type NoDataRule,
  type TagOverride,
} from './rule-model.js';
import { TAG_SELECTOR, type NoDataSpec, type RuleOverride, type RuleSpec } from './rule-spec.js';

export function compileRule(name: string, origin: RuleOrigin, spec: RuleSpec): CompiledRule {
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

export function compileNoData(spec: NoDataSpec | undefined, defaultMs: number): NoDataRule {
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
