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
  for (const [name, value] of Object.entries(m.labels ?? {})) {
    if (e.labels?.[name] !== value) return false;
  }
  return true;
}

/** `subject`, or a label's value (a label both lack counts as equal, as in Alertmanager). */
function field(e: AlertEvent, name: string): string | undefined {
  return name === 'subject' ? e.subject : e.labels?.[name];
}

/** Whether `source` (firing) inhibits `target` under one rule. */
export function inhibits(rule: InhibitRule, source: AlertEvent, target: AlertEvent): boolean {
  return (
    source.incidentId !== target.incidentId &&
    source.state === 'firing' &&
    matches(rule.source, source) &&
    matches(rule.target, target) &&
    rule.equal.every((name) => field(source, name) === field(target, name))
  );
}

/** The first firing source among `open` that inhibits `target`, if any. */
export function inhibitor(
  rules: readonly InhibitRule[],
  open: Iterable<AlertEvent>,
  target: AlertEvent,
): InhibitedBy | undefined {
  if (rules.length === 0) return undefined;
  for (const source of open) {
    if (rules.some((r) => inhibits(r, source, target))) {
      return { incidentId: source.incidentId, rule: source.rule };
    }
  }
  return undefined;
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
