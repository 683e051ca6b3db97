import {
  AlertEvent,
  AlertsQuery,
  allPartitions,
  decodeEntry,
  HistoryTime,
  Incident,
  readJsonHash,
  resolutionFor,
  sendJson,
  Silence,
  splitEntryId,
  Step,
  Topic,
  type AlertsResponse,
  type AuditEvent,
  type HistoryPoint,
  type HistorySeriesPage,
  type Keys,
  type Route,
} from '@quantmon/shared';
import type { ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { readAudit } from './audit-log.js';
import { copiedUntil } from './history-boundary.js';
import { BucketFold, comparePoints, thin } from './history-buckets.js';
import { readHistory } from './history.js';
import {
  type HistoryDb,
  foldStored,
  rawPoints,
  RESOLUTION_MS,
  storedAlerts,
  storedAudit,
} from './history-store.js';
import { newestFirst } from './newest-first.js';

/**
 * `GET /api/history` with `step`, and with history on (DATABASE_URL) across
 * the stream/database boundary; `GET /api/alerts` over the whole trail when
 * history is on. Without a database and without a step both fall through to
 * the stream-only routes (api-routes.ts, alert-routes.ts), unchanged.
 *
 * The boundary: the database answers the whole range; the streams answer
 * from the oldest entry the historian may not have committed yet, read
 * off its consumer group (history-boundary.ts), so there is no gap
 * whatever its lag. Points are keyed by (partition, entry id), and with a
 * step folded by least/greatest/latest, so an entry seen on both sides
 * counts once.
 */

const HistoryQuery = z.strictObject({
  topic: Topic,
  from: HistoryTime.optional(),
  to: HistoryTime.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  step: Step.optional(),
});

export interface HistoryRouteOptions {
  redis: Redis;
  keys: Keys;
  partitions: number;
  historyMaxScan: number;
  /** The history database; undefined: history is off. */
  sql: HistoryDb | undefined;
}

function query(url: URL): Record<string, string> {
  const q = Object.fromEntries(url.searchParams);
  delete q['token'];
  return q;
}

function badQuery(res: ServerResponse, issues: readonly z.core.$ZodIssue[]): true {
  sendJson(res, 400, {
    error: 'invalid query',
    issues: issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
  return true;
}

export function historyRoutes(opts: HistoryRouteOptions): Route {
  return async (req, res, url) => {
    if (req.method !== 'GET') return false;
    if (url.pathname === '/api/history') {
      const q = HistoryQuery.safeParse(query(url));
      if (!q.success) {
        // Without history or step the stream-only route answers (and rejects) as before.
        return opts.sql || url.searchParams.has('step') ? badQuery(res, q.error.issues) : false;
      }
      if (!opts.sql && q.data.step === undefined) return false;
      const to = q.data.to ?? Date.now();
      const from = q.data.from ?? to - 3_600_000;
      if (from > to) {
        return badQuery(res, [
          { code: 'custom', path: ['from'], message: 'from is after to', input: from },
        ]);
      }
      const page = await history(
        opts,
        { topic: q.data.topic, from, to, limit: q.data.limit },
        q.data.step,
      );
      sendJson(res, 200, page);
      return true;
    }
    if (url.pathname === '/api/alerts' && opts.sql) {
      const q = AlertsQuery.safeParse(query(url));
      if (!q.success) return badQuery(res, q.error.issues);
      sendJson(res, 200, await alerts(opts, opts.sql, q.data, Date.now()));
      return true;
    }
    return false;
  };
}

interface Range {
  topic: Topic;
  from: number;
  to: number;
  limit: number;
}

async function history(
  opts: HistoryRouteOptions,
  r: Range,
  requestedStep: number | undefined,
): Promise<HistorySeriesPage> {
  const { sql } = opts;
  let streamFrom = r.from;
  if (sql) {
    const until = await copiedUntil(opts.redis, opts.keys, opts.partitions, r.topic);
    if (until !== undefined) streamFrom = Math.max(r.from, Math.min(until, r.to));
  }
  const useStep = requestedStep !== undefined && r.topic !== 'alerts';
  const streamLimit = useStep ? opts.historyMaxScan : r.limit;
  const streams = await readHistory(
    opts.redis,
    opts.keys,
    opts.partitions,
    { topic: r.topic, from: streamFrom, to: r.to, limit: streamLimit },
    opts.historyMaxScan,
  );
  if (useStep) {
    const resolution = sql ? resolutionFor(requestedStep) : 'raw';
    const width = RESOLUTION_MS[resolution];
    // A step is a whole number of the rollup's width, so rollup buckets never straddle two steps.
    const step = Math.ceil(requestedStep / width) * width;
    const fold = new BucketFold(step);
    if (sql) await foldStored(sql, r.topic, resolution, r.from, r.to, fold);
    for (const p of streams.points) {
      if ('incidentId' in p.data) continue;
      fold.addEntry(p.part ?? 0, p.pos, p.data);
    }
    const t = thin(fold.points(), r.limit);
    return {
      topic: r.topic,
      from: r.from,
      to: r.to,
      points: t.points,
      truncated: t.thinned || streams.truncated,
      step,
      resolution,
    };
  }
  const merged = new Map<string, HistoryPoint>();
  if (sql) {
    const stored = await rawPoints(sql, r.topic, r.from, r.to, r.limit);
    for (const p of stored.points) merged.set(`${p.part}/${p.pos}`, p);
  }
  for (const p of streams.points) merged.set(`${p.part ?? 0}/${p.pos}`, p);
  const t = thin([...merged.values()].sort(comparePoints), r.limit);
  return {
    topic: r.topic,
    from: r.from,
    to: r.to,
    points: t.points,
    truncated: t.thinned || streams.truncated,
    resolution: 'raw',
  };
}

const MAX_SCAN = 20_000;

async function alerts(
  opts: HistoryRouteOptions,
  sql: HistoryDb,
  q: AlertsQuery,
  now: number,
): Promise<AlertsResponse> {
  const { redis, keys } = opts;
  const parts = allPartitions(opts.partitions);
  const from = q.from ?? 0;
  const to = q.to ?? now;
  const keep = (e: AlertEvent): boolean =>
    (!q.state || e.state === q.state) && (!q.level || e.level === q.level);
  const incidents = await Promise.all(
    parts.map((p) => readJsonHash(redis, keys.partition(p).incidents, Incident)),
  );
  const active = incidents
    .flatMap((h) => [...h.values()].map((i) => i.firing))
    .filter(keep)
    .sort((a, b) => b.startsAt - a.startsAt);

  const stored = await storedAlerts(sql, {
    from,
    to,
    state: q.state,
    level: q.level,
    limit: q.limit,
  });
  const merged = new Map<string, { part: number; id: string; event: AlertEvent }>();
  for (const s of stored)
    merged.set(`${s.part}/${s.entryId}`, { part: s.part, id: s.entryId, event: s.event });
  // What the historian may not have committed yet, from the streams (history-boundary.ts).
  const until = await copiedUntil(redis, keys, opts.partitions, 'alerts');
  const streamFrom = until === undefined ? from : Math.max(from, Math.min(until, to));
  const sources = parts.map((part) => ({ part, key: keys.partition(part).alerts }));
  let scanned = 0;
  let found = 0;
  for await (const { part, entry } of newestFirst(
    redis,
    sources,
    `${to}-18446744073709551615`,
    `${streamFrom}-0`,
    500,
  )) {
    if (found >= q.limit || ++scanned > MAX_SCAN) break;
    const d = decodeEntry(entry[1], AlertEvent);
    if (!d.ok || !keep(d.value)) continue;
    found++;
    merged.set(`${part}/${entry[0]}`, { part, id: entry[0], event: d.value });
  }
  const events = [...merged.values()]
    .sort((a, b) => {
      const x = splitEntryId(a.id);
      const y = splitEntryId(b.id);
      return y.ms - x.ms || b.part - a.part || y.seq - x.seq;
    })
    .slice(0, q.limit)
    .map((m) => m.event);
  const oldest = events[events.length - 1];
  const nextTo = events.length >= q.limit && oldest ? oldest.ts - 1 : undefined;

  const silences = (await readJsonHash(redis, keys.silences, Silence)).values();
  const recentAudit = await readAudit(redis, keys, silences, { from, to, limit: q.limit }, now);
  const audit = new Map<string, AuditEvent>();
  for (const a of [...(await storedAudit(sql, { from, to, limit: q.limit })), ...recentAudit]) {
    // Not the JSON: PostgreSQL's jsonb orders keys its own way.
    const what =
      'incidentId' in a
        ? a.incidentId
        : 'silence' in a
          ? a.silence.id
          : 'strategy' in a
            ? a.strategy
            : String(a.version);
    audit.set(`${a.kind}|${a.at}|${a.by}|${what}`, a);
  }
  return {
    active,
    events,
    audit: [...audit.values()].sort((a, b) => b.at - a.at).slice(0, q.limit),
    ...(nextTo !== undefined ? { nextTo } : {}),
  };
}
