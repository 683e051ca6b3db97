import type { AlertEvent } from '@quantmon/shared';
import { fmt, openEvent } from './incident.js';
import { NO_DATA_RULE, NO_FLAP, subjectId, type EffectiveRule, type NoDataRule } from './rules.js';

/** How long a subject may stay silent before a no-data incident (0: never). */
export function noDataAfter(nd: NoDataRule, subject: string): number {
  const own = nd.overrides.get(subjectId(subject));
  if (own !== undefined) return own;
  return subject.startsWith('host/') ? nd.hostAfterMs : nd.strategyAfterMs;
}

/** The event opening a no-data incident: `subject` silent since `seen`, the limit `afterMs`. */
export function noDataEvent(
  nd: NoDataRule,
  subject: string,
  seen: number,
  afterMs: number,
  now: number,
): AlertEvent {
  const rule: EffectiveRule = {
    name: NO_DATA_RULE,
    metric: 'secondsSinceLastData',
    comparison: '>',
    threshold: afterMs / 1000,
    clearThreshold: undefined,
    level: nd.level,
    forMs: 0,
    keepFiringMs: 0,
    flap: NO_FLAP,
    repeatMs: undefined,
    labels: nd.labels,
    recommendation: nd.recommendation,
    action: undefined,
  };
  const silentS = Math.round((now - seen) / 100) / 10;
  return {
    ...openEvent(rule, subject, silentS, `${now}-nd`, now, now, 'firing'),
    message: `no_data: nothing from ${subject} for ${fmt(silentS)} s (limit ${fmt(afterMs / 1000)} s)`,
  };
}
