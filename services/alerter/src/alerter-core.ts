import type { AlertEvent, Subject } from '@quantmon/shared';
import { fmt, incidentId, incidentKey, resolvedEvent, type Incident } from './incident.js';
import { breaches, type Rule, type RuleInput } from './rules.js';

export interface Transition {
  kind: 'open' | 'resolve';
  incident: Incident;
  event: AlertEvent;
}

function subjectOf(input: RuleInput): Subject {
  return input.kind === 'score' ? `strategy/${input.update.strategy}` : `host/${input.sample.host}`;
}

/** Epoch ms of a stream id: the moment the entry was written. */
function entryTime(entryId: string): number {
  return Number(entryId.split('-')[0]);
}

/**
 * The alerter's pure core: rule evaluation and the incident lifecycle. One
 * incident per rule and subject: a breach opens it (firing), later breaches
 * leave it as it is, the first observation back inside the threshold
 * resolves it. Re-observing the same input yields no new transition, so a
 * redelivered entry is harmless.
 */
export class AlerterCore {
  constructor(
    private readonly rules: readonly Rule[],
    private readonly minObservations: number,
    /** Firing incidents by incidentKey(rule, subject); persisted by the caller. */
    readonly incidents: Map<string, Incident>,
  ) {}

  observe(input: RuleInput, entryId: string, now: number): Transition[] {
    const subject = subjectOf(input);
    const out: Transition[] = [];
    for (const rule of this.rules) {
      if (rule.source !== input.kind) continue;
      const value = rule.valueOf(input, this.minObservations);
      if (value === undefined) continue;
      const key = incidentKey(rule.name, subject);
      const open = this.incidents.get(key);
      if (breaches(rule, value)) {
        if (open) continue;
        const incident = this.open(rule, subject, value, entryId, now);
        this.incidents.set(key, incident);
        out.push({ kind: 'open', incident, event: incident.firing });
      } else if (open) {
        this.incidents.delete(key);
        out.push({ kind: 'resolve', incident: open, event: resolvedEvent(open, value, now) });
      }
    }
    return out;
  }

  /** Critical incidents whose emergency job is not yet confirmed in the queue. */
  pendingJobs(): Incident[] {
    return [...this.incidents.values()].filter((i) => i.action !== undefined && !i.jobEnqueued);
  }

  private open(
    rule: Rule,
    subject: Subject,
    value: number,
    entryId: string,
    now: number,
  ): Incident {
    const firing: AlertEvent = {
      incidentId: incidentId(rule.name, subject, entryId),
      rule: rule.name,
      level: rule.level,
      subject,
      state: 'firing',
      value,
      threshold: rule.threshold,
      metric: rule.metric,
      message: `${rule.name}: ${rule.metric} ${fmt(value)} ${rule.comparison} ${fmt(rule.threshold)} on ${subject}`,
      recommendation: rule.recommendation,
      startsAt: entryTime(entryId),
      endsAt: null,
      ts: now,
    };
    return {
      firing,
      ...(rule.action && rule.level === 'critical' ? { action: rule.action } : {}),
      jobEnqueued: false,
    };
  }
}
