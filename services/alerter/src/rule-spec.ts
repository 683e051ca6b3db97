import { AlertLabels, AlertLevel, FiniteNumber } from '@quantmon/shared';
import { z } from 'zod';
import { DEFAULT_FLAP, MAX_FLAP_CHECKS } from './flap-detector.js';
import { knownMetrics, metricSource, metricsWithVolume } from './metric-source.js';

/**
 * The rules file format (docs/alerts.md): zod schemas, validated when a file
 * is loaded. Pure: reading the file is rules-file.ts's job.
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const DURATION_FORMATS =
  'a duration: milliseconds (a whole number), or a number and one of ms, s, m, h, d with no space, such as 500ms, 30s, 5m, 2h, 1d';

/** Milliseconds, or a string such as "500ms", "30s", "5m", "2h", "1d". */
export const Duration = z.union(
  [
    z.number().int(DURATION_FORMATS).nonnegative(DURATION_FORMATS),
    z
      .string()
      .regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, DURATION_FORMATS)
      .transform((s) => {
        const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s);
        return Math.round(Number(m?.[1]) * UNIT_MS[(m?.[2] ?? 'ms') as keyof typeof UNIT_MS]);
      }),
  ],
  { error: DURATION_FORMATS },
);

export const RuleName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'rule names: lower case letters, digits, _');
const Id = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'a strategy or host id');
/** A strategy tag as a selector: `desk=rates` (tag keys as the catalogue's, any value). */
export const TAG_SELECTOR = /^([a-z_][a-z0-9_]{0,62})=(.{1,128})$/;

/**
 * Which strategies a rule watches by their catalogue tags: every key given
 * must be present with that value (or one of the values of a list).
 */
export const TagMatch = z
  .record(
    z.string(),
    z.union([z.string().min(1).max(128), z.array(z.string().min(1).max(128)).min(1)], {
      error: 'a tag value or a non-empty list of values',
    }),
  )
  .superRefine((m, ctx) => {
    const keys = Object.keys(m);
    if (keys.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: 'at least one tag: an empty match would be every strategy (leave match out)',
      });
    }
    for (const k of keys) {
      // zod names a bad record key only as "Invalid key": say what a key is.
      if (/^[a-z_][a-z0-9_]{0,62}$/.test(k)) continue;
      ctx.addIssue({
        code: 'custom',
        path: [k],
        message: 'not a tag key: 1-63 characters of a-z 0-9 _, not starting with a digit',
      });
    }
  });
export type TagMatch = z.infer<typeof TagMatch>;
export const Comparison = z.enum(['>', '>=', '<', '<=']);
export type Comparison = z.infer<typeof Comparison>;

/** `system` (one incident for the fleet), `host` / `strategy` (one per subject), or one subject. */
export const SubjectSelector = z
  .string()
  .regex(
    /^(system|host|strategy|host\/[A-Za-z0-9_.-]+|strategy\/[A-Za-z0-9_.-]+)$/,
    'system, host, strategy, host/<id> or strategy/<id>',
  );

const JobName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a BullMQ job name');

const SHARE = 'a share of state changes between 0 and 1, such as 0.2 for 20 %';

/**
 * Flap detection (Nagios): the weighted share of state changes over the last
 * `checks` checks marks an incident flapping at `high` or above and clears
 * the mark at `low` or below. Defaults: DEFAULT_FLAP (21, 0.2, 0.05).
 */
export const FlapSpec = z.strictObject({
  enabled: z.boolean().optional(),
  checks: z
    .number()
    .int(`a whole number of checks, 3 to ${MAX_FLAP_CHECKS}`)
    .min(3, `a whole number of checks, 3 to ${MAX_FLAP_CHECKS}`)
    .max(MAX_FLAP_CHECKS, `a whole number of checks, 3 to ${MAX_FLAP_CHECKS}`)
    .optional(),
  high: z.number(SHARE).gt(0, SHARE).max(1, SHARE).optional(),
  low: z.number(SHARE).min(0, SHARE).max(1, SHARE).optional(),
});
export type FlapSpec = z.infer<typeof FlapSpec>;

const WINDOW = 'a whole number of points, 2 to 10000';
const HORIZON = 'a number of periods (samples) ahead, above 0';

/**
 * Forecast rules (predict_linear): the rule compares the value its metric is
 * projected to reach `horizon` periods (or `horizonTime`) past the latest
 * point, from a least-squares line through the last `window` values, instead
 * of the value itself. Give exactly one of horizon and horizonTime.
 */
export const ForecastSpec = z
  .strictObject({
    /** Points in the fit (the latest values of the metric on one subject). */
    window: z.number().int(WINDOW).min(2, WINDOW).max(10_000, WINDOW),
    /** No forecast from fewer points than this (default: the whole window). */
    minPoints: z.number().int(WINDOW).min(2, WINDOW).max(10_000, WINDOW).optional(),
    /** Periods ahead: samples of the subject (a conflated update counts every sample it covers). */
    horizon: z.number(HORIZON).gt(0, HORIZON).max(1e9, HORIZON).optional(),
    /** Time ahead, on the samples' own timestamps (`10m`, `1d`). */
    horizonTime: Duration.refine((ms) => ms > 0, 'a duration above 0').optional(),
  })
  .superRefine((f, ctx) => {
    if ((f.horizon === undefined) === (f.horizonTime === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['horizon'],
        message:
          'give exactly one of horizon (periods ahead, such as 20) and horizonTime (a duration ahead, such as 10m)',
      });
    }
    if (f.minPoints !== undefined && f.minPoints > f.window) {
      ctx.addIssue({
        code: 'custom',
        path: ['minPoints'],
        message: `at most window (${f.window}): the fit never holds more points`,
      });
    }
  });
export type ForecastSpec = z.infer<typeof ForecastSpec>;

/** Fields a per-subject override may change. */
export const RuleOverride = z.strictObject({
  threshold: FiniteNumber.optional(),
  clearThreshold: FiniteNumber.optional(),
  level: AlertLevel.optional(),
  for: Duration.optional(),
  keepFiringFor: Duration.optional(),
  repeatInterval: Duration.optional(),
  labels: AlertLabels.optional(),
  recommendation: z.string().min(1).optional(),
  enabled: z.boolean().optional(),
});
export type RuleOverride = z.infer<typeof RuleOverride>;

const ruleShape = {
  metric: z.string().refine((m) => metricSource(m) !== undefined, {
    message: `unknown metric; one of ${knownMetrics().join(', ')}`,
  }),
  comparison: Comparison,
  threshold: FiniteNumber,
  /** Hysteresis: once firing it resolves only when the value is back past this. */
  clearThreshold: FiniteNumber.optional(),
  level: AlertLevel,
  subject: SubjectSelector,
  /** The condition must hold on every observation for this long before it fires (pending meanwhile). */
  for: Duration.optional(),
  /**
   * A firing incident resolves only once the value has stayed past the clear
   * threshold this long (Prometheus's keep_firing_for); a new crossing
   * meanwhile keeps the same incident. Checked on the alerter's clock.
   * Does not delay firing.
   */
  keepFiringFor: Duration.optional(),
  /** Flap detection; `{enabled: false}` turns it off. */
  flap: FlapSpec.optional(),
  /** Re-notify receivers of a firing, unacknowledged incident this often. */
  repeatInterval: Duration.optional(),
  labels: AlertLabels.optional(),
  recommendation: z.string().min(1),
  /** Emergency job name on quantmon-emergency (critical rules only). */
  action: JobName.optional(),
  /** `negate` compares -value (losses as magnitudes), `abs` compares |value|. */
  transform: z.enum(['none', 'negate', 'abs']).optional(),
  /**
   * Strategy statistics wait for this many observations in the window
   * (default ALERTER_MIN_OBSERVATIONS; for annualised ratios at least
   * RATIO_MIN_OBSERVATIONS).
   */
  minObservations: z.number().int('a whole number of observations').min(1).optional(),
  /** Rates: one computed over fewer operations than this is not judged (neither opens nor resolves); 0: no minimum. */
  minVolume: z.number().int('a whole number of operations').nonnegative().optional(),
  /**
   * Host metrics: no new incident until the host has reported this long (from
   * its first report, or its first after a silence at least this long); 0: none.
   */
  startupGrace: Duration.optional(),
  enabled: z.boolean().optional(),
  /**
   * Per strategy (or host) id, or per strategy tag (`desk=rates`): a tighter
   * limit for one strategy or a desk, or `enabled: false`. Tag overrides
   * apply in file order, an id's own last.
   */
  overrides: z
    .record(z.string(), RuleOverride)
    .superRefine((o, ctx) => {
      for (const k of Object.keys(o)) {
        // Checked here, not as the record's key schema: zod names a bad key only as "Invalid key".
        if (/^[A-Za-z0-9_.-]{1,128}$/.test(k) || TAG_SELECTOR.test(k)) continue;
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: 'not a strategy or host id, nor a tag selector such as desk=rates',
        });
      }
    })
    .optional(),
  /** Strategy rules: watch only strategies whose catalogue tags match (`{desk: rates}`). */
  match: TagMatch.optional(),
  /** Compare the value projected ahead by a linear trend instead of the value (off unless given). */
  forecast: ForecastSpec.optional(),
};

/** The fields a new rule must have (a patch of a default may leave them out). */
export const NEW_RULE_FIELDS: readonly string[] = Object.entries(ruleShape)
  .filter(([, schema]) => !schema.safeParse(undefined).success)
  .map(([field]) => field);

/** A complete rule: what a new rule in the file, or a default merged with its patch, must be. */
export const RuleSpec = z.strictObject(ruleShape).superRefine((r, ctx) => {
  const source = metricSource(r.metric);
  const sel = r.subject;
  if (source === 'score' && (sel === 'host' || sel.startsWith('host/'))) {
    ctx.addIssue({
      code: 'custom',
      path: ['subject'],
      message: `${r.metric} is a strategy metric`,
    });
  }
  if (source === 'system' && (sel === 'strategy' || sel.startsWith('strategy/'))) {
    ctx.addIssue({ code: 'custom', path: ['subject'], message: `${r.metric} is a host metric` });
  }
  if (r.match && source !== 'score') {
    ctx.addIssue({
      code: 'custom',
      path: ['match'],
      message: `matches strategy tags; ${r.metric} is a host metric`,
    });
  }
  if (source !== 'score') {
    for (const id of Object.keys(r.overrides ?? {})) {
      if (!TAG_SELECTOR.test(id)) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['overrides', id],
        message: `a tag override applies to strategies; ${r.metric} is a host metric`,
      });
    }
  }
  if (r.action !== undefined && r.level !== 'critical') {
    ctx.addIssue({
      code: 'custom',
      path: ['action'],
      message: 'only critical rules take an action',
    });
  }
  if (r.minObservations !== undefined && source !== 'score') {
    ctx.addIssue({
      code: 'custom',
      path: ['minObservations'],
      message: `applies to strategy statistics; ${r.metric} is a host metric (use for or minVolume)`,
    });
  }
  if (r.minVolume && !metricsWithVolume().includes(r.metric)) {
    ctx.addIssue({
      code: 'custom',
      path: ['minVolume'],
      message: `applies to rates whose sample carries their volume (${metricsWithVolume().join(', ')}), not ${r.metric}`,
    });
  }
  if (r.startupGrace && source !== 'system') {
    ctx.addIssue({
      code: 'custom',
      path: ['startupGrace'],
      message: `applies to host metrics; ${r.metric} is a strategy metric (use minObservations)`,
    });
  }
  if (r.flap) {
    const high = r.flap.high ?? DEFAULT_FLAP.high;
    const low = r.flap.low ?? DEFAULT_FLAP.low;
    if (low >= high) {
      ctx.addIssue({
        code: 'custom',
        path: ['flap', 'low'],
        message: `must be below high (${high}): the mark is set at high and cleared at low`,
      });
    }
  }
  checkClear(ctx, [], r.comparison, r.threshold, r.clearThreshold);
  for (const [id, o] of Object.entries(r.overrides ?? {})) {
    const threshold = o.threshold ?? r.threshold;
    const clear = o.clearThreshold ?? (o.threshold === undefined ? r.clearThreshold : undefined);
    checkClear(ctx, ['overrides', id], r.comparison, threshold, clear);
  }
});
export type RuleSpec = z.infer<typeof RuleSpec>;

function checkClear(
  ctx: z.RefinementCtx,
  path: string[],
  comparison: Comparison,
  threshold: number,
  clear: number | undefined,
): void {
  if (clear === undefined) return;
  const ok = comparison.startsWith('>') ? clear <= threshold : clear >= threshold;
  if (!ok) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'clearThreshold'],
      message: `must be on the resolving side of threshold ${threshold} (${comparison.startsWith('>') ? '<=' : '>='} it)`,
    });
  }
}

/** An entry of the file's `rules` map: a patch of a default rule, or a complete new rule. */
export const RulePatch = z.strictObject(ruleShape).partial();
export type RulePatch = z.infer<typeof RulePatch>;

/** No-data alerts: a subject silent longer than `after` raises a `no_data` incident. */
export const NoDataSpec = z.strictObject({
  enabled: z.boolean().optional(),
  /** Strategies (and hosts, unless hostAfter is given); default ALERTER_NO_DATA_MS. */
  after: Duration.optional(),
  hostAfter: Duration.optional(),
  level: AlertLevel.optional(),
  recommendation: z.string().min(1).optional(),
  labels: AlertLabels.optional(),
  /** Per strategy or host id: its own `after`, or `enabled: false` (a retired strategy). */
  overrides: z
    .record(Id, z.strictObject({ after: Duration.optional(), enabled: z.boolean().optional() }))
    .optional(),
});
export type NoDataSpec = z.infer<typeof NoDataSpec>;

const MATCHER_NEEDS =
  'at least one of rule, level or labels: an empty matcher would match every incident';

/**
 * One side of an inhibition rule: an incident matches when its rule is the
 * one (or one of those) named, its level is the one given, and its labels
 * hold every label given.
 */
export const InhibitMatcher = z
  .strictObject({
    rule: z.union([RuleName, z.array(RuleName).min(1, 'a rule name or a non-empty list of them')], {
      error: 'a rule name or a list of rule names',
    }),
    level: AlertLevel,
    labels: AlertLabels,
  })
  .partial()
  .refine((m) => m.rule !== undefined || m.level !== undefined || m.labels !== undefined, {
    message: MATCHER_NEEDS,
  });
export type InhibitMatcher = z.infer<typeof InhibitMatcher>;

const EQUAL_NEEDS =
  'a non-empty list of "subject" or label names: without one a source on any subject would mute its targets everywhere';

/**
 * An inhibition rule (Alertmanager's inhibit_rules): while an incident
 * matching `source` fires, open incidents matching `target` that agree with
 * it on every `equal` field (`subject`, or a label name) are muted.
 */
export const InhibitRule = z.strictObject({
  source: InhibitMatcher,
  target: InhibitMatcher,
  equal: z
    .array(z.string().regex(/^(subject|[A-Za-z_][A-Za-z0-9_]{0,63})$/, 'subject or a label name'), {
      error: EQUAL_NEEDS,
    })
    .min(1, EQUAL_NEEDS),
});
export type InhibitRule = z.infer<typeof InhibitRule>;

/** The file's top level; each rule entry is validated on its own (RulePatch, then RuleSpec). */
export const RulesFile = z.strictObject({
  noData: NoDataSpec.optional(),
  /** Replaces the default inhibition rules (DEFAULT_INHIBIT); `[]` turns inhibition off. */
  inhibit: z.array(InhibitRule, { error: 'a list of {source, target, equal} entries' }).optional(),
  rules: z.record(RuleName, z.unknown()).optional(),
});
export type RulesFile = z.infer<typeof RulesFile>;
