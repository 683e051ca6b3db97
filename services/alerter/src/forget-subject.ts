import { RETIRED_RULE, type AlertEvent, type Subject } from '@quantmon/shared';
import { incidentId, resolvedEvent, type Incident } from './incident.js';

/**
 * Why a subject is being forgotten: silent for IDLE_FORGET_AFTER (`idle`,
 * with that limit), or retired by an admin through
 * `DELETE /api/strategies/{id}` (`retired`, with who asked).
 */
export type ForgetReason =
  { kind: 'idle'; afterMs: number } | { kind: 'retired'; by: string; at: number };

/** Re-exported for the alerter's own modules; defined with the shared contract. */
export { RETIRED_RULE };

function describe(why: ForgetReason): string {
  if (why.kind === 'retired') return `retired by ${why.by}`;
  return `forgotten after ${Math.round(why.afterMs / 1000)} s without data`;
}

/** The resolved event closing an open incident of a forgotten subject. */
export function forgottenEvent(inc: Incident, why: ForgetReason, now: number): AlertEvent {
  const e = resolvedEvent(inc, inc.firing.value, now);
  return { ...e, message: `${inc.firing.rule} closed: ${inc.firing.subject} ${describe(why)}` };
}

/** The event recording a strategy's retirement (state `resolved`: nothing to act on). */
export function retiredEvent(subject: Subject, by: string, at: number, now: number): AlertEvent {
  return {
    incidentId: incidentId(RETIRED_RULE, subject, `${at}-r`),
    rule: RETIRED_RULE,
    level: 'info',
    subject,
    state: 'resolved',
    value: 0,
    threshold: 0,
    metric: 'retired',
    message: `${subject} retired by ${by}: its windows, latest state and open incidents are gone`,
    recommendation: 'none: a sample posted for it later starts a new, empty window',
    startsAt: at,
    endsAt: now,
    ts: now,
  };
}
