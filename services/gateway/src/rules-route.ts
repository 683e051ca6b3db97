import { RulesInForce, sendJson, type Keys, type Logger, type Route } from '@quantmon/shared';
import type { Redis } from 'ioredis';

/**
 * `GET /api/rules` (public contract): the rules in force and where each came
 * from, as the alerter last published them at start or on reload. 404 until
 * an alerter has published.
 */
export function rulesRoute(redis: Redis, keys: Keys, log: Logger): Route {
  return async (req, res, url) => {
    if (req.method !== 'GET' || url.pathname !== '/api/rules') return false;
    const raw = await redis.get(keys.rulesInForce);
    if (raw === null) {
      sendJson(res, 404, {
        error: 'no rules published yet: no alerter has started on this pipeline',
      });
      return true;
    }
    let parsed: ReturnType<typeof RulesInForce.safeParse>;
    try {
      parsed = RulesInForce.safeParse(JSON.parse(raw));
    } catch (err) {
      log.error({ err, key: keys.rulesInForce }, 'rules in force: not JSON');
      sendJson(res, 500, { error: 'the published rules are not valid JSON' });
      return true;
    }
    if (!parsed.success) {
      log.error({ issues: parsed.error.issues, key: keys.rulesInForce }, 'rules in force: invalid');
      sendJson(res, 500, { error: 'the published rules do not match their schema' });
      return true;
    }
    sendJson(res, 200, parsed.data);
    return true;
  };
}
