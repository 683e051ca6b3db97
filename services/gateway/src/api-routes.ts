import {
  AlertEvent,
  AlertLevel,
  AlertState,
  decodeEntry,
  sendJson,
  Topic,
  type Keys,
  type RawEntry,
  type Route,
} from '@quantmon/shared';
import type { ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { GatewayState } from './gateway-state.js';
import { readHistory } from './history.js';

const AlertsQuery = z.strictObject({
  state: AlertState.optional(),
  level: AlertLevel.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Epoch ms or an ISO-8601 date. */
const Time = z
  .string()
  .transform((s) => (/^\d+$/.test(s) ? Number(s) : Date.parse(s)))
  .refine(Number.isFinite, 'must be epoch ms or an ISO-8601 date');

const HistoryQuery = z.strictObject({
  topic: Topic,
  from: Time.optional(),
  to: Time.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

export interface ApiOptions {
  redis: Redis;
  keys: Keys;
  state: GatewayState;
  historyMaxScan: number;
  /** The OpenAPI document, served at /api/openapi.json. */
  openapi: unknown;
}

/** The query parameters, without the auth token (it is not a filter). */
function query(url: URL): Record<string, string> {
  const q = Object.fromEntries(url.searchParams);
  delete q['token'];
  return q;
}

function badQuery(res: ServerResponse, issues: z.core.$ZodIssue[]): true {
  sendJson(res, 400, {
    error: 'invalid query',
    issues: issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
  return true;
}

/**
 * REST on the gateway (public contract): `/api/summary`, `/api/strategies`,
 * `/api/history`, `/api/alerts`, `/api/openapi.json`.
 */
export function apiRoutes(opts: ApiOptions): Route {
  const { redis, keys, state } = opts;
  return async (req, res, url) => {
    if (req.method !== 'GET') return false;
    switch (url.pathname) {
      case '/api/summary':
        sendJson(res, 200, state.summary(Date.now()));
        return true;
      case '/api/strategies':
        sendJson(res, 200, state.strategies(Date.now()));
        return true;
      case '/api/openapi.json':
        sendJson(res, 200, opts.openapi, { 'cache-control': 'max-age=60' });
        return true;
      case '/api/history': {
        const q = HistoryQuery.safeParse(query(url));
        if (!q.success) return badQuery(res, q.error.issues);
        const to = q.data.to ?? Date.now();
        const from = q.data.from ?? to - 3_600_000;
        if (from > to)
          return badQuery(res, [
            { code: 'custom', path: ['from'], message: 'from is after to', input: from },
          ]);
        const page = await readHistory(
          redis,
          keys,
          { topic: q.data.topic, from, to, limit: q.data.limit },
          opts.historyMaxScan,
        );
        sendJson(res, 200, page);
        return true;
      }
      case '/api/alerts': {
        const q = AlertsQuery.safeParse(query(url));
        if (!q.success) return badQuery(res, q.error.issues);
        // Newest first, from the alerts stream (bounded by its MAXLEN).
        const raw = (await redis.xrevrange(keys.alerts, '+', '-', 'COUNT', 5000)) as RawEntry[];
        const events: AlertEvent[] = [];
        for (const [, fields] of raw) {
          const d = decodeEntry(fields, AlertEvent);
          if (!d.ok) continue;
          if (q.data.state && d.value.state !== q.data.state) continue;
          if (q.data.level && d.value.level !== q.data.level) continue;
          events.push(d.value);
          if (events.length >= q.data.limit) break;
        }
        sendJson(res, 200, { active: state.summary(Date.now()).activeAlerts, events });
        return true;
      }
      default:
        return false;
    }
  };
}
