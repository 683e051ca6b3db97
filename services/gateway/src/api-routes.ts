import {
  AlertEvent,
  AlertLevel,
  AlertState,
  decodeEntry,
  sendJson,
  type Keys,
  type RawEntry,
  type Route,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { GatewayState } from './gateway-state.js';

const AlertsQuery = z.strictObject({
  state: AlertState.optional(),
  level: AlertLevel.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** REST on the gateway: `/api/summary` and `/api/alerts` (public contract). */
export function apiRoutes(redis: Redis, keys: Keys, state: GatewayState): Route {
  return async (req, res, url) => {
    if (req.method !== 'GET') return false;
    if (url.pathname === '/api/summary') {
      sendJson(res, 200, state.summary(Date.now()));
      return true;
    }
    if (url.pathname === '/api/alerts') {
      const q = AlertsQuery.safeParse(Object.fromEntries(url.searchParams));
      if (!q.success) {
        sendJson(res, 400, {
          error: 'invalid query',
          issues: q.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        });
        return true;
      }
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
    return false;
  };
}
