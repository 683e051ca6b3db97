import type { AlertEvent, Incident, Subject } from '@quantmon/shared';

export type { Incident };

export const incidentKey = (rule: string, subject: string): string => `${rule}|${subject}`;

/**
 * Deterministic from the rule, subject and the stream entry that opened it,
 * so any alerter that processes that entry names the incident the same way.
 * Safe as a BullMQ job id (no ':', never all digits).
 */
export function incidentId(rule: string, subject: Subject, entryId: string): string {
  return `${rule}__${subject.replace('/', '-')}__${entryId}`;
}

export function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(4)).toString();
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
