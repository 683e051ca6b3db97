import { z } from 'zod';
import type { Catalogue } from '../catalogue/resolve.js';
import { METRIC_NAMES, type MetricName } from '../metric-names.js';
import { FiniteNumber } from '../schemas/common.js';
import type { MetricValue, ScoreUpdate } from '../schemas/score-update.js';
import { compileExpr, type CompiledExpr, type NameResolver, type Value } from './evaluate.js';
import { FUNCTIONS } from './parse.js';
import { ExprError } from './tokenize.js';

/**
 * Derived metrics (README "Derived metrics"): user-defined metrics computed
 * from the ones the scorer computes, declared in the strategy catalogue's
 * `derived` list as a name and an arithmetic expression, evaluated by the
 * scorer into each score update's `derived` field, and usable in alert rules
 * as `derived.<name>`.
 *
 * The names an expression may read: every metric (`sharpeRatio`), the same
 * metric over one of the strategy's extra windows (`sharpeRatio@60`, the
 * window named 60 in the catalogue), `count` (and `count@60`), the scores
 * (`scores.performance`, `scores.risk`, `scores.stability`), `weightDrift`,
 * and any derived metric listed before it.
 */

const METRICS: ReadonlySet<string> = new Set(METRIC_NAMES);
const SCORES = ['scores.performance', 'scores.risk', 'scores.stability'] as const;
const RESERVED: ReadonlySet<string> = new Set([
  ...METRIC_NAMES,
  ...Object.keys(FUNCTIONS),
  'count',
  'weightDrift',
  'scores',
]);

export const DERIVED_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const NAME_RULE = 'must be 1-64 characters of A-Z a-z 0-9 _, not starting with a digit';

/**
 * The `derived` field of a score update: each derived metric's value, null
 * where it is undefined (a metric it reads is, or a division by zero).
 */
export const DerivedValues = z.record(
  z.string().regex(DERIVED_NAME, NAME_RULE),
  FiniteNumber.nullable(),
);
export type DerivedValues = z.infer<typeof DerivedValues>;

/** A derived metric's name: a rule reads it as `derived.<name>`. */
export const DerivedName = z
  .string()
  .regex(DERIVED_NAME, NAME_RULE)
  .refine((n) => !RESERVED.has(n), {
    message: 'is taken: a metric, function or field of the score update has that name',
  });

export const DerivedMetric = z.strictObject({
  name: DerivedName,
  /** Arithmetic over metric names: + - * /, parentheses, comparisons, abs min max sqrt log exp pow. */
  expression: z.string().min(1).max(1000),
  description: z.string().max(512).optional(),
});
export type DerivedMetric = z.infer<typeof DerivedMetric>;

export const MAX_DERIVED = 64;

/**
 * The catalogue's `derived` list: every expression is parsed and its names
 * checked here, so a bad edit is refused with the entry, the column and
 * the problem (`derived.2.expression: unknown name sharpRatio at column 1`),
 * and the previous catalogue stays in force.
 */
export const DerivedMetrics = z
  .array(DerivedMetric)
  .max(MAX_DERIVED, `at most ${MAX_DERIVED} derived metrics`)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((d, i) => {
      if (seen.has(d.name)) {
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `${d.name} is defined twice` });
      }
      try {
        compileOne(d, seen);
      } catch (err) {
        if (!(err instanceof ExprError)) throw err;
        ctx.addIssue({ code: 'custom', path: [i, 'expression'], message: err.message });
      }
      seen.add(d.name);
    });
  });
export type DerivedMetrics = z.infer<typeof DerivedMetrics>;

/** What an expression is evaluated against: the update being built, and the derived values so far. */
interface Ctx {
  update: ScoreUpdate;
  out: Record<string, Value>;
}

const wire = (v: MetricValue | undefined): Value => {
  if (v === null || v === undefined) return null;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return v;
};

function resolver(earlier: ReadonlySet<string>): NameResolver<Ctx> {
  return (name, window) => {
    if (METRICS.has(name)) {
      const m = name as MetricName;
      if (window === undefined) return (c) => wire(c.update.metrics[m]);
      return (c) => wire(c.update.windows?.[window]?.metrics[m]);
    }
    if (name === 'count') {
      if (window === undefined) return (c) => c.update.count;
      return (c) => c.update.windows?.[window]?.count ?? null;
    }
    if (window !== undefined) {
      return `${name}@${window}: only metrics and count are kept per window`;
    }
    if ((SCORES as readonly string[]).includes(name)) {
      const key = name.slice('scores.'.length) as keyof ScoreUpdate['scores'];
      return (c) => c.update.scores[key];
    }
    if (name === 'weightDrift') return (c) => c.update.weightDrift;
    if (earlier.has(name)) return (c) => c.out[name] ?? null;
    const later = name.startsWith('derived.') ? ` (write ${name.slice(8)}, without derived.)` : '';
    return `unknown name ${name}${later}: a metric (${METRIC_NAMES.slice(0, 3).join(', ')}, ...), metric@window, count, ${SCORES.join(', ')}, weightDrift, or a derived metric listed earlier`;
  };
}

function compileOne(d: DerivedMetric, earlier: ReadonlySet<string>): CompiledExpr<Ctx> {
  return compileExpr(d.expression, resolver(earlier));
}

/** A catalogue's derived metrics, compiled, in order. */
export interface CompiledDerived {
  readonly names: readonly string[];
  /** Every derived metric of the update, in list order (a later one may read an earlier one). */
  evaluate(update: ScoreUpdate): Record<string, Value>;
}

/** Compile a validated list (DerivedMetrics); throws ExprError on an expression that was not validated. */
export function compileDerived(list: readonly DerivedMetric[]): CompiledDerived {
  const seen = new Set<string>();
  const compiled = list.map((d) => {
    const c = compileOne(d, seen);
    seen.add(d.name);
    return { name: d.name, expr: c };
  });
  return {
    names: compiled.map((c) => c.name),
    evaluate(update) {
      const ctx: Ctx = { update, out: {} };
      for (let i = 0; i < compiled.length; i++) {
        const { name, expr } = compiled[i]!;
        ctx.out[name] = expr.evaluate(ctx);
      }
      return ctx.out;
    },
  };
}

const NONE: CompiledDerived = { names: [], evaluate: () => ({}) };
const byCatalogue = new WeakMap<Catalogue, CompiledDerived>();

/** The catalogue's derived metrics, compiled once per catalogue (a reload brings a new one). */
export function derivedOf(catalogue: Catalogue): CompiledDerived {
  let d = byCatalogue.get(catalogue);
  if (!d) {
    const list = catalogue.file.derived ?? [];
    d = list.length === 0 ? NONE : compileDerived(list);
    byCatalogue.set(catalogue, d);
  }
  return d;
}

/**
 * Give a freshly built update its `derived` field when the catalogue
 * defines derived metrics (the scorer's one call, where it builds an
 * update), and return it.
 */
export function withDerived(update: ScoreUpdate, catalogue: Catalogue): ScoreUpdate {
  const d = derivedOf(catalogue);
  // Set on the update the scorer just built (no copy of it per update).
  if (d.names.length > 0) update.derived = d.evaluate(update);
  return update;
}
