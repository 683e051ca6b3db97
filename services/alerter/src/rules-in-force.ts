import type { RuleInForce } from '@quantmon/shared';
import type { RuleSet } from './rules.js';

/** The rules in force, in the shape published for GET /api/rules and printed by `rules check`. Pure. */
export function describeRules(set: RuleSet): RuleInForce[] {
  return set.rules.map((r) => ({
    name: r.name,
    origin: r.origin,
    level: r.base.level,
    metric: r.base.metric,
    comparison: r.base.comparison,
    threshold: r.base.threshold,
    clearThreshold: r.base.clearThreshold ?? null,
    subject: r.subject,
    forMs: r.base.forMs,
    keepFiringForMs: r.base.keepFiringMs,
    overrides: [...r.overrides.keys(), ...r.tagOverrides.map((t) => `${t.key}=${t.value}`)],
  }));
}

/** The default rules a rules file patches (for logs). */
export function overriddenDefaults(set: RuleSet): string[] {
  return set.rules.filter((r) => r.origin === 'override').map((r) => r.name);
}

/** What the alerter logs when it loads a rules file, at start and on every reload. */
export function rulesLoadedLog(
  set: RuleSet,
  file: string | undefined,
): { file: string | null; rules: number; overrides: string[]; added: string[] } {
  return {
    file: file ?? null,
    rules: set.rules.length,
    overrides: overriddenDefaults(set),
    added: set.rules.filter((r) => r.origin === 'file').map((r) => r.name),
  };
}
