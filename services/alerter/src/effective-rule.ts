import type { Comparison, RuleOverride } from './rule-spec.js';
import type { CompiledRule, EffectiveRule, RuleSet, SubjectTags } from './rule-model.js';

/*
 * A compiled rule applied to one subject: which subject it watches, its
 * overrides folded in, and the comparisons that open and keep an incident.
 */

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

/** A rule with one override applied; null where it disables the rule. */
export function applyOverride(base: EffectiveRule, o: RuleOverride): EffectiveRule | null {
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
