import { encodeEntry, Incident, STREAM_MAXLEN, type Keys, type Logger } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { Transition } from './alerter-core.js';
import { incidentKey } from './incident.js';

/** Firing incidents from Redis: the alerter's state survives a restart. */
export async function loadIncidents(
  redis: Redis,
  keys: Keys,
  log: Logger,
): Promise<Map<string, Incident>> {
  const raw = await redis.hgetall(keys.incidents);
  const out = new Map<string, Incident>();
  for (const [key, json] of Object.entries(raw)) {
    let parsed;
    try {
      parsed = Incident.safeParse(JSON.parse(json));
    } catch {
      parsed = undefined;
    }
    if (parsed?.success) out.set(key, parsed.data);
    else log.error({ key }, 'dropping unreadable incident record');
  }
  return out;
}

/**
 * Persist transitions and publish their events in one MULTI: the incident
 * state and the alerts stream never disagree.
 */
export async function writeTransitions(
  redis: Redis,
  keys: Keys,
  transitions: Transition[],
): Promise<void> {
  if (transitions.length === 0) return;
  const tx = redis.multi();
  for (const t of transitions) {
    const key = incidentKey(t.event.rule, t.event.subject);
    if (t.kind === 'open') tx.hset(keys.incidents, key, JSON.stringify(t.incident));
    else tx.hdel(keys.incidents, key);
    tx.xadd(keys.alerts, 'MAXLEN', '~', STREAM_MAXLEN.alerts, '*', ...encodeEntry(t.event));
  }
  const res = await tx.exec();
  if (!res) throw new Error('incident transaction aborted');
  for (const [err] of res) if (err) throw err;
}

/** Record that an incident's job is in the queue. */
export async function markJobEnqueued(redis: Redis, keys: Keys, incident: Incident): Promise<void> {
  incident.jobEnqueued = true;
  const key = incidentKey(incident.firing.rule, incident.firing.subject);
  // Only while it is still the open incident under that key.
  const current = await redis.hget(keys.incidents, key);
  if (
    current &&
    (JSON.parse(current) as Incident).firing.incidentId === incident.firing.incidentId
  ) {
    await redis.hset(keys.incidents, key, JSON.stringify(incident));
  }
}
