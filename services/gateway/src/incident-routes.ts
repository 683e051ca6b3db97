import {
  AlertEvent,
  allPartitions,
  decodeEntry,
  Incident,
  readJsonHash,
  sendJson,
  Silence,
  type Keys,
  type Logger,
  type Route,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { readAudit } from './audit-log.js';
import type { EmergencyQueueReader } from './emergency-queue.js';
import { incidentTimeline } from './incident-timeline.js';
import { newestFirst } from './newest-first.js';

/** Alert entries read per request at most, newest first over every partition (the streams are bounded). */
const MAX_SCAN = 50_000;

export interface IncidentRoutesOptions {
  redis: Redis;
  keys: Keys;
  partitions: number;
  emergency: EmergencyQueueReader;
  log: Logger;
}

/**
 * `GET /api/incidents/{incidentId}` (issue 13, item 3): one incident's
 * events (oldest first), its timeline (pending, firing, acknowledged,
 * silenced, resolved, with who and when), whether it is still open, and the
 * state of its emergency job in BullMQ (`job`: null when its rule queues
 * none, or the job is gone; `jobError` when the queue could not be read).
 * 404 when neither an open incident nor any event of it is found.
 */
export function incidentRoutes(opts: IncidentRoutesOptions): Route {
  const { redis, keys } = opts;
  return async (req, res, url) => {
    const m = /^\/api\/incidents\/([^/]+)$/.exec(url.pathname);
    if (!m || req.method !== 'GET') return false;
    const id = decodeURIComponent(m[1] ?? '');
    const parts = allPartitions(opts.partitions);
    const hashes = await Promise.all(
      parts.map((p) => readJsonHash(redis, keys.partition(p).incidents, Incident)),
    );
    const open = hashes.flatMap((h) => [...h.values()]).find((i) => i.firing.incidentId === id);
    const events: AlertEvent[] = [];
    const sources = parts.map((part) => ({ part, key: keys.partition(part).alerts }));
    let scanned = 0;
    for await (const { entry } of newestFirst(redis, sources, '+', '-', 500)) {
      if (++scanned > MAX_SCAN) break;
      const d = decodeEntry(entry[1], AlertEvent);
      if (!d.ok || d.value.incidentId !== id) continue;
      events.push(d.value);
      // Its first event reached: nothing older belongs to it.
      if (d.value.ts < (open?.firing.startsAt ?? d.value.startsAt)) break;
    }
    if (!open && events.length === 0) {
      sendJson(res, 404, { error: `no incident ${id} (open, or in the retained alert events)` });
      return true;
    }
    events.reverse();
    const silences = await readJsonHash(redis, keys.silences, Silence);
    const since = Math.min(...events.map((e) => e.startsAt), open?.firing.startsAt ?? Infinity);
    const audit = (
      await readAudit(redis, keys, silences.values(), { from: since, limit: 1000 }, Date.now())
    ).filter((a) => a.kind !== 'acknowledged' || a.incidentId === id);
    let job = null;
    let jobError: string | undefined;
    try {
      job = (await opts.emergency.job(id)) ?? null;
    } catch (err) {
      opts.log.warn({ err, incidentId: id }, 'emergency job not readable');
      jobError = `the emergency queue could not be read: ${(err as Error).message}`;
    }
    const latest = open?.firing ?? events[events.length - 1];
    sendJson(res, 200, {
      incidentId: id,
      open: open !== undefined,
      latest,
      action: open?.action ?? null,
      events,
      timeline: incidentTimeline(events, audit, silences),
      job,
      ...(jobError ? { jobError } : {}),
    });
    return true;
  };
}
