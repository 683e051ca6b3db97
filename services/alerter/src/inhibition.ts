import type { AlertEvent, InhibitedBy } from '@quantmon/shared';
import type { InhibitMatcher, InhibitRule } from './rule-spec.js';

/**
 * Inhibition as Alertmanager defines it: while a source incident fires, open
 * incidents matching a rule's target that agree with the source on every
 * `equal` field are muted. Pure.
 */

/** Whether an incident's event matches one side of an inhibition rule. */
export function matches(m: InhibitMatcher, e: AlertEvent): boolean {
  if (m.rule !== undefined) {
    const names = typeof m.rule === 'string' ? [m.rule] : m.rule;
    if (!names.includes(e.rule)) return false;
  }
  if (m.level !== undefined && e.level !== m.level) return false;
  // for-in, not Object.entries: no array made per call (every open incident is matched per batch).
  for (const name in m.labels) {
    if (e.labels?.[name] !== m.labels[name]) return false;
  }
  return true;
}

/** `subject`, or a label's value (a label both lack counts as equal, as in Alertmanager). */
function field(e: AlertEvent, name: string): string | undefined {
  return name === 'subject' ? e.subject : e.labels?.[name];
}

/**
 * Whether `source` (firing) inhibits `target` under one rule: the definition,
 * one pair at a time. The alerter asks InhibitionIndex, which answers the
 * same for many targets at once (inhibition.test.ts checks one against the other).
 */
export function inhibits(rule: InhibitRule, source: AlertEvent, target: AlertEvent): boolean {
  return (
    source.incidentId !== target.incidentId &&
    source.state === 'firing' &&
    matches(rule.source, source) &&
    matches(rule.target, target) &&
    rule.equal.every((name) => field(source, name) === field(target, name))
  );
}

/**
 * An event's values of a rule's `equal` fields, as one key: a label it lacks
 * is distinct from every value. One field (`equal: [subject]`, the usual
 * case) is its value behind a marker, without JSON.
 */
function equalKey(rule: InhibitRule, e: AlertEvent): string {
  if (rule.equal.length === 1) {
    const v = field(e, rule.equal[0]!);
    return v === undefined ? 'u' : `v${v}`;
  }
  return JSON.stringify(rule.equal.map((name) => field(e, name) ?? null));
}

/**
 * The firing sources of one moment, indexed by each rule's `equal` values,
 * so finding a target's inhibitor costs a lookup per rule, not a pass over
 * every source. Build one per pass over the incidents: the alerter asks for
 * every open incident after a transition, on every tick and for every
 * incident it posts to Alertmanager, and with a source per strategy a pass
 * of plain loops grew with the square of the open incidents (2.4 ms per
 * transition at ~250 open incidents per partition, `npm run bench:alerts`,
 * docs/performance.md). Answers what scanning the sources in order would:
 * the first of `open` that inhibits `target` under any rule.
 */
export class InhibitionIndex {
  /** Per rule: equal-key -> the matching firing sources, in `open`'s order (with that order). */
  private readonly byRule: Map<string, { order: number; event: AlertEvent }[]>[];

  constructor(
    private readonly rules: readonly InhibitRule[],
    open: Iterable<AlertEvent>,
  ) {
    this.byRule = rules.map(() => new Map());
    if (rules.length === 0) return;
    let order = 0;
    for (const source of open) {
      order++;
      if (source.state !== 'firing') continue;
      rules.forEach((rule, i) => {
        if (!matches(rule.source, source)) return;
        const key = equalKey(rule, source);
        const list = this.byRule[i]!.get(key);
        if (list) list.push({ order, event: source });
        else this.byRule[i]!.set(key, [{ order, event: source }]);
      });
    }
  }

  /** The first source that inhibits `target`, if any (an incident never inhibits itself). */
  inhibitorOf(target: AlertEvent): InhibitedBy | undefined {
    let best: { order: number; event: AlertEvent } | undefined;
    this.rules.forEach((rule, i) => {
      const bySource = this.byRule[i]!;
      if (bySource.size === 0 || !matches(rule.target, target)) return;
      const first = bySource
        .get(equalKey(rule, target))
        ?.find((s) => s.event.incidentId !== target.incidentId);
      if (first && (!best || first.order < best.order)) best = first;
    });
    return best && { incidentId: best.event.incidentId, rule: best.event.rule };
  }
}

export function sameInhibitor(a: InhibitedBy | undefined, b: InhibitedBy | undefined): boolean {
  return a?.incidentId === b?.incidentId && a?.rule === b?.rule;
}

/** The event with its inhibition mark set, or removed (undefined). */
export function withInhibitor(event: AlertEvent, by: InhibitedBy | undefined): AlertEvent {
  const rest = { ...event };
  delete rest.inhibitedBy;
  return by ? { ...rest, inhibitedBy: by } : rest;
}

/** The event recording that an open incident is now inhibited, or released. */
export function inhibitEvent(
  prev: AlertEvent,
  by: InhibitedBy | undefined,
  now: number,
): AlertEvent {
  const was = prev.inhibitedBy;
  const message = by
    ? `${prev.rule} on ${prev.subject} inhibited by ${by.rule} (${by.incidentId}): no notification, job or repeat while it fires`
    : `${prev.rule} on ${prev.subject} released: ${was?.rule ?? 'its inhibiting incident'} no longer fires`;
  return { ...withInhibitor(prev, by), message, ts: now };
}

/** Rule names an inhibition rule refers to (for validation against the rule set). */
export function ruleNames(m: InhibitMatcher): string[] {
  if (m.rule === undefined) return [];
  return typeof m.rule === 'string' ? [m.rule] : m.rule;
}
