import {
  partitionOf,
  RetireResponse,
  sendJson,
  StrategyId,
  type Keys,
  type Logger,
  type RetireRequest,
  type Route,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { writeAudit } from './audit-log.js';
import { callerName } from './auth.js';
import type { GatewayState } from './gateway-state.js';

const PATH = /^\/api\/strategies\/([^/]+)$/;
/** How long the call waits for the scorer and alerter to apply it (both poll every 0.5 s). */
const WAIT_MS = 10_000;
const POLL_MS = 100;

export interface RetireRouteDeps {
  redis: Redis;
  keys: Keys;
  partitions: number;
  state: GatewayState;
  log: Logger;
  /** Overrides WAIT_MS (tests). */
  waitMs?: number;
}

/**
 * `DELETE /api/strategies/{id}` (admin; roles.ts): retire a strategy. The
 * request goes to the partition's scorer retire hash (keys.ts); the scorer
 * drops the windows, the latest score and the ingest mark and hands it to
 * the alerter, which closes the open incidents (resolved, "retired by
 * ...") and records a `strategy_retired` event on the alerts stream, from
 * which every gateway drops it (the history keeps both). The audit stream
 * records who asked. Idempotent: a repeat finds nothing and says
 * `known: false`. A sample posted afterwards starts a new, empty window.
 */
export function retireRoute(deps: RetireRouteDeps): Route {
  return async (req, res, url) => {
    const m = PATH.exec(url.pathname);
    if (!m || req.method !== 'DELETE') return false;
    const parsed = StrategyId.safeParse(decodeURIComponent(m[1]!));
    if (!parsed.success) {
      sendJson(res, 400, { error: `strategy id ${parsed.error.issues[0]?.message ?? 'invalid'}` });
      return true;
    }
    const strategy = parsed.data;
    const { redis, keys, state, log } = deps;
    const partition = partitionOf(strategy, deps.partitions);
    const pk = keys.partition(partition);
    const by = callerName(req);
    const at = Date.now();
    const [inLatest, inSeen] = await Promise.all([
      redis.hexists(pk.latestScores, strategy),
      redis.hexists(pk.lastSeen, `strategy/${strategy}`),
    ]);
    const known = inLatest === 1 || inSeen === 1 || state.scores.has(strategy);
    const request: RetireRequest = { by, at };
    await redis.hset(pk.retire('scorer'), strategy, JSON.stringify(request));
    state.forgetStrategy(strategy, at);
    await writeAudit(redis, keys, { kind: 'strategy-retired', at, by, strategy, known });
    log.info({ strategy, partition, by, known }, 'strategy retirement requested');

    const deadline = Date.now() + (deps.waitMs ?? WAIT_MS);
    let applied: { scorer: boolean; alerter: boolean };
    for (;;) {
      const [s, a] = await Promise.all([
        redis.hexists(pk.retire('scorer'), strategy),
        redis.hexists(pk.retire('alerter'), strategy),
      ]);
      applied = { scorer: s === 0, alerter: s === 0 && a === 0 };
      if (applied.alerter || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const body = RetireResponse.parse({ strategy, partition, by, at, known, applied });
    sendJson(res, applied.alerter ? 200 : 202, body);
    return true;
  };
}
