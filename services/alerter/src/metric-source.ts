import {
  DERIVED_NAME,
  fromMetricValue,
  METRIC_NAMES,
  SYSTEM_FIELDS,
  SystemSample,
  type MetricName,
  type ScoreUpdate,
  type SpanField,
} from '@quantmon/shared';

/** What a rule reads: a strategy's score update or a host's system sample. */
export type RuleInput =
  { kind: 'score'; update: ScoreUpdate } | { kind: 'system'; sample: SystemSample };

export type Source = RuleInput['kind'];

/** How the raw value is compared: losses (drawdown, VaR) are negative numbers, compared as magnitudes. */
export type Transform = 'none' | 'negate' | 'abs';

/** The numeric measurements of a system sample a rule can watch. */
export const SYSTEM_METRICS: readonly string[] = [
  // The host measurements history keeps too, and the pipeline's own health readings.
  ...SYSTEM_FIELDS,
  'serviceSilence',
  'consumerLagGrowth',
].filter((k) => k in SystemSample.shape);
export const SCORE_METRICS = ['scores.performance', 'scores.risk', 'scores.stability'] as const;

const metricNames = new Set<string>(METRIC_NAMES);

/** Every metric a rule may name, for error messages and docs. */
export function knownMetrics(): string[] {
  return [
    ...METRIC_NAMES,
    ...SCORE_METRICS,
    'weightDrift',
    'derived.<name>',
    '<metric>@<window>',
    ...SYSTEM_METRICS,
  ];
}

const WINDOWED = /^([A-Za-z]+)@([A-Za-z0-9_.-]{1,32})$/;

/**
 * A metric over one of the strategy's extra catalogue windows
 * (`sharpeRatio@60`: the update's `windows["60"]`). The window name is not
 * checked against the catalogue (it has its own file and reload): an update
 * without that window is not judged, as a metric with too few observations
 * is not.
 */
function windowed(metric: string): { name: MetricName; window: string } | undefined {
  const m = WINDOWED.exec(metric);
  if (!m || !metricNames.has(m[1]!)) return undefined;
  return { name: m[1] as MetricName, window: m[2]! };
}

/**
 * A derived metric of the strategy catalogue (`derived.sharpeGap`): read
 * from the update's `derived` field. Its name is not checked against the
 * catalogue (each has its own file and reload): an update without it is not
 * judged, as a metric with too few observations is not.
 */
function derivedName(metric: string): string | undefined {
  if (!metric.startsWith('derived.')) return undefined;
  const name = metric.slice('derived.'.length);
  return DERIVED_NAME.test(name) ? name : undefined;
}

export function metricSource(metric: string): Source | undefined {
  if (metricNames.has(metric) || metric === 'weightDrift') return 'score';
  if (derivedName(metric) !== undefined) return 'score';
  if (windowed(metric) !== undefined) return 'score';
  if ((SCORE_METRICS as readonly string[]).includes(metric)) return 'score';
  if (SYSTEM_METRICS.includes(metric)) return 'system';
  return undefined;
}

export type Reader = (input: RuleInput, minObservations: number) => number | undefined;

/**
 * The value a rule compares, or undefined when this input does not measure
 * it (wrong source, too few observations for a statistic, not finite).
 */
export function metricReader(metric: string, transform: Transform): Reader {
  const t =
    transform === 'negate'
      ? (x: number) => -x
      : transform === 'abs'
        ? (x: number) => Math.abs(x)
        : (x: number) => x;
  const finite = (x: number | null | undefined): number | undefined =>
    x !== null && x !== undefined && Number.isFinite(x) ? t(x) : undefined;
  if (metricNames.has(metric)) {
    const name = metric as MetricName;
    return (input, minObs) =>
      input.kind === 'score' && input.update.count >= minObs
        ? finite(fromMetricValue(input.update.metrics[name]))
        : undefined;
  }
  if (metric === 'weightDrift') {
    return (input) => (input.kind === 'score' ? finite(input.update.weightDrift) : undefined);
  }
  const w = windowed(metric);
  if (w !== undefined) {
    // minObservations counts the window's own observations.
    return (input, minObs) => {
      if (input.kind !== 'score') return undefined;
      const win = input.update.windows?.[w.window];
      return win && win.count >= minObs ? finite(fromMetricValue(win.metrics[w.name])) : undefined;
    };
  }
  const derived = derivedName(metric);
  if (derived !== undefined) {
    return (input, minObs) =>
      input.kind === 'score' && input.update.count >= minObs
        ? finite(input.update.derived?.[derived])
        : undefined;
  }
  if (metric.startsWith('scores.')) {
    const key = metric.slice('scores.'.length) as keyof ScoreUpdate['scores'];
    return (input, minObs) =>
      input.kind === 'score' && input.update.count >= minObs
        ? finite(input.update.scores[key])
        : undefined;
  }
  const field = metric as keyof SystemSample;
  return (input) => {
    if (input.kind !== 'system') return undefined;
    const v = input.sample[field];
    return typeof v === 'number' ? finite(v) : undefined;
  };
}

/** The smallest and largest value (after the transform) a rule's metric took over an update's span. */
export type RangeReader = (
  input: RuleInput,
  minObservations: number,
) => [number, number] | undefined;

/**
 * For an update that covers several samples (the scorer writes one update
 * per strategy per read batch): the range the metric went through across
 * them, so a threshold crossed and recovered between two updates is still
 * judged. Undefined without a span, for a field that was never finite, and
 * when the span's first sample had fewer observations than the rule wants
 * (its values then mix judged and unjudged states: the latest is used alone).
 */
export function spanReader(metric: string, transform: Transform): RangeReader | undefined {
  // A span keeps no extremes of derived metrics or extra windows: their rules judge the latest value.
  if (metricSource(metric) !== 'score' || derivedName(metric) !== undefined) return undefined;
  if (windowed(metric) !== undefined) return undefined;
  const field = metric as SpanField;
  const countless = metric === 'weightDrift'; // judged whatever the window holds, as metricReader does
  return (input, minObs) => {
    if (input.kind !== 'score') return undefined;
    const span = input.update.span;
    if (!span || (!countless && span.firstCount < minObs)) return undefined;
    const lo = span.low[field];
    const hi = span.high[field];
    if (lo === undefined || hi === undefined) return undefined;
    if (transform === 'negate') return [-hi, -lo];
    if (transform === 'abs') {
      if (lo >= 0) return [lo, hi];
      if (hi <= 0) return [-hi, -lo];
      return [0, Math.max(-lo, hi)];
    }
    return [lo, hi];
  };
}

/**
 * Rates whose sample also says how many operations they were computed over
 * (the field named here): a rule can then ignore a rate from too few
 * (`minVolume`). One failure in two probe calls is 50 %, and means nothing.
 */
const VOLUME_FIELDS: Readonly<Record<string, keyof SystemSample>> = {
  errorRate: 'errorRateOperations',
};

/** Metrics a rule may give `minVolume`. */
export function metricsWithVolume(): string[] {
  return Object.keys(VOLUME_FIELDS).filter((m) => SYSTEM_METRICS.includes(m));
}

export type VolumeReader = (input: RuleInput) => number | undefined;

/**
 * The operation count behind a rate, or undefined where the metric has none
 * or the sample does not carry it (a collector that predates the field).
 */
export function volumeReader(metric: string): VolumeReader | undefined {
  const field = VOLUME_FIELDS[metric];
  if (field === undefined) return undefined;
  return (input) => {
    if (input.kind !== 'system') return undefined;
    const v = input.sample[field];
    return typeof v === 'number' ? v : undefined;
  };
}

/**
 * Annualised ratios of a mean to a dispersion: their estimate from a short
 * window is noise (see RATIO_MIN_OBSERVATIONS in default-rules.ts), so a rule
 * on one waits for more observations unless it sets its own minimum.
 */
const RATIO_METRICS: ReadonlySet<string> = new Set<MetricName>([
  'sharpeRatio',
  'sortinoRatio',
  'informationRatio',
  'calmarRatio',
]);

export function isRatioMetric(metric: string): boolean {
  return RATIO_METRICS.has(metric);
}

/** The subject an input is about: `strategy/<id>` or `host/<id>`. */
export function naturalSubject(input: RuleInput): string {
  return input.kind === 'score' ? `strategy/${input.update.strategy}` : `host/${input.sample.host}`;
}
