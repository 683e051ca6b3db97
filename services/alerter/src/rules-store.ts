import type { Keys } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { loadRules } from './rules-file.js';
import { compileRules, type RuleSet } from './rules.js';

/**
 * Rules set through the gateway's admin API (`PUT /api/rules`), stored in
 * Redis (`keys.rulesDoc`): the same content as a rules file (as JSON), who
 * set it, when, and a version that grows with each change. While it exists
 * every alerter uses it instead of RULES_FILE; `DELETE /api/rules` removes
 * it and the alerters go back to their file. Alerters notice a change
 * within RULES_DOC_POLL_MS (rules-watcher.ts) and reload without a restart.
 */
export const RulesDocument = z.strictObject({
  version: z.number().int().positive(),
  /** The rules file's content (docs/alerts.md), validated by compileRules before it is stored. */
  rules: z.record(z.string(), z.unknown()),
  by: z.string().min(1).max(128),
  at: z.number().int().nonnegative(),
  comment: z.string().max(1024).optional(),
});
export type RulesDocument = z.infer<typeof RulesDocument>;

export const RULES_DOC_POLL_MS = 2000;

/** The stored document; undefined when none is set. Throws on one that fails its schema. */
export async function readRulesDoc(redis: Redis, keys: Keys): Promise<RulesDocument | undefined> {
  const raw = await redis.get(keys.rulesDoc);
  if (raw === null) return undefined;
  return RulesDocument.parse(JSON.parse(raw));
}

/** What the poller compares: the stored version, or "none". */
export async function rulesDocVersion(redis: Redis, keys: Keys): Promise<string> {
  const doc = await readRulesDoc(redis, keys);
  return doc ? String(doc.version) : 'none';
}

/** The rules in force: the API's document when one is set, else the rules file (or the defaults). */
export async function loadRulesInForce(
  redis: Redis,
  keys: Keys,
  file: string | undefined,
  noDataMs: number,
): Promise<RuleSet> {
  const doc = await readRulesDoc(redis, keys);
  return doc ? compileRules(doc.rules, noDataMs) : loadRules(file, noDataMs);
}
