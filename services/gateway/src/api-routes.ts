import { sendJson, sendJsonPieces, Topic, type Keys, type Route } from '@quantmon/shared';
import type { ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { GatewayState } from './gateway-state.js';
import { readHistory } from './history.js';
import { jsonPieces } from './json-pieces.js';

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
  /** The pipeline's partition count P. */
  partitions: number;
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
 * `/api/history`, `/api/openapi.json` (alerts: alert-routes.ts).
 */
export function apiRoutes(opts: ApiOptions): Route {
  const { redis, keys, state } = opts;
  return async (req, res, url) => {
    if (req.method !== 'GET') return false;
    switch (url.pathname) {
      // Every strategy's latest state: written in pieces (json-pieces.ts).
      case '/api/summary': {
        const { ts, strategies, ...rest } = state.summary(Date.now());
        await sendJsonPieces(res, 200, jsonPieces({ ts }, 'strategies', strategies, rest));
        return true;
      }
      case '/api/strategies': {
        const { ts, strategies } = state.strategies(Date.now());
        await sendJsonPieces(res, 200, jsonPieces({ ts }, 'strategies', strategies, {}));
        return true;
      }
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
          opts.partitions,
          { topic: q.data.topic, from, to, limit: q.data.limit },
          opts.historyMaxScan,
        );
        sendJson(res, 200, page);
        return true;
      }
      default:
        return false;
    }
  };
}
