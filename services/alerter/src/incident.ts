import type { AlertEvent, AlertState, Incident, Subject } from '@quantmon/shared';
import { describeHorizon } from './forecast.js';
import type { EffectiveRule } from './rules.js';

export type { Incident };

export const incidentKey = (rule: string, subject: string): string => `${rule}|${subject}`;

/**
 * Deterministic from the rule, subject and the stream entry (or tick) that
 * opened it, so any alerter that processes that entry names the incident the
 * same way. Safe as a BullMQ job id (no ':', never all digits).
 */
export function incidentId(rule: string, subject: Subject, stamp: string): string {
  return `${rule}__${subject.replace('/', '-')}__${stamp}`;
}

/** Epoch ms of a stream id: the moment the entry was written. */
export function entryTime(entryId: string): number {
  return Number(entryId.split('-')[0]);
}

export function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(4)).toString();
}

/**
 * A value beside the threshold it crossed, with the digits it takes to
 * tell them apart: 60.002 against 60 is "60.002", not "60" ("60 > 60" was
 * the message of a lag that had grown for a few ms over 60 s).
 */
export function fmtAgainst(value: number, threshold: number): string {
  const short = fmt(value);
  const limit = fmt(threshold);
  if (value === threshold || short !== limit) return short;
  for (let digits = 5; digits <= 15; digits++) {
    const s = Number(value.toPrecision(digits)).toString();
    if (s !== limit) return s;
  }
  return String(value);
}

/** "currentDrawdown 0.12", or for a forecast rule "currentDrawdown projected 0.12 in 20 periods". */
function measured(rule: EffectiveRule, value: number): string {
  const v = fmtAgainst(value, rule.threshold);
  if (!rule.forecast) return `${rule.metric} ${v}`;
  return `${rule.metric} projected ${v} in ${describeHorizon(rule.forecast)}`;
}

/** The event opening an incident (pending, or firing when the rule has no `for`). */
export function openEvent(
  rule: EffectiveRule,
  subject: Subject,
  value: number,
  stamp: string,
  startsAt: number,
  now: number,
  state: Extract<AlertState, 'pending' | 'firing'>,
  /** The strategy's catalogue tags: labels too, under the rule's own (which win on a clash). */
  tags?: Readonly<Record<string, string>>,
): AlertEvent {
  const pending = state === 'pending' ? ' (pending)' : '';
  const labels = tags ? { ...tags, ...rule.labels } : rule.labels;
  return {
    incidentId: incidentId(rule.name, subject, stamp),
    rule: rule.name,
    level: rule.level,
    subject,
    state,
    value,
    threshold: rule.threshold,
    metric: rule.metric,
    message: `${rule.name}: ${measured(rule, value)} ${rule.comparison} ${fmt(rule.threshold)} on ${subject}${pending}`,
    recommendation: rule.recommendation,
    startsAt,
    endsAt: null,
    ts: now,
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
  };
}

/** A pending incident whose `for` has elapsed: same id and start, now firing. */
export function firedEvent(
  prev: AlertEvent,
  rule: EffectiveRule,
  value: number,
  now: number,
): AlertEvent {
  return {
    ...prev,
    state: 'firing',
    value,
    message: `${rule.name}: ${measured(rule, value)} ${rule.comparison} ${fmt(rule.threshold)} on ${prev.subject} for ${Math.round((now - prev.startsAt) / 1000)} s`,
    ts: now,
  };
}

/** The resolved event closing an incident. */
export function resolvedEvent(inc: Incident, value: number, now: number): AlertEvent {
  const f = inc.firing;
  return {
    ...f,
    state: 'resolved',
    value,
    message: `${f.rule} resolved: ${f.metric} ${fmt(value)} on ${f.subject}`,
    endsAt: now,
    ts: now,
  };
}

/**
 * The event with its flapping mark: true while flapping; false once a mark
 * it carried is cleared; absent on an incident that never flapped.
 */
export function withFlapping(event: AlertEvent, flapping: boolean): AlertEvent {
  if (flapping) return { ...event, flapping: true };
  return event.flapping === undefined ? event : { ...event, flapping: false };
}

/** The event marking an open incident flapping, or clearing the mark. */
export function flapEvent(
  prev: AlertEvent,
  flapping: boolean,
  share: number,
  checks: number,
  value: number,
  now: number,
): AlertEvent {
  const pct = `${Math.round(share * 100)} % state changes over the last ${checks} checks`;
  return {
    ...prev,
    flapping,
    value,
    message: flapping
      ? `${prev.rule} on ${prev.subject} is flapping (${pct}): repeat notifications held back until it settles`
      : `${prev.rule} on ${prev.subject} has settled (${pct}): repeat notifications resume`,
    ts: now,
  };
}
