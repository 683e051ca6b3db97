import { RulesInForce, type Keys, type Logger } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { describeRules } from './rules-in-force.js';
import type { RuleSet } from './rules.js';

export interface PublishRulesOptions {
  redis: Redis;
  keys: Keys;
  log: Logger;
  file: string | undefined;
  replica: string;
}

/**
 * Publish the rules in force for GET /api/rules (`keys.rulesInForce`), at
 * start and on every reload. A failure is logged: alerting goes on.
 */
export async function publishRules(opts: PublishRulesOptions, set: RuleSet): Promise<void> {
  const doc = RulesInForce.parse({
    loadedAt: Date.now(),
    file: opts.file ?? null,
    replica: opts.replica,
    rules: describeRules(set),
  });
  try {
    await opts.redis.set(opts.keys.rulesInForce, JSON.stringify(doc));
  } catch (err) {
    opts.log.warn({ err }, 'cannot publish the rules in force');
  }
}
