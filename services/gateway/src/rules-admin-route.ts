import { sendJson, type Keys, type Logger, type Route } from '@quantmon/shared';
import type { Redis } from 'ioredis';
// The alerter's own loader validates: the gateway accepts exactly what an alerter would load.
import { compileRules, RulesError } from '../../alerter/src/rules.js';
import { readRulesDoc, RulesDocument } from '../../alerter/src/rules-store.js';
import { putAdminDocument, removeAdminDocument, type AdminDocument } from './admin-document.js';

/** compileRules needs a no-data default; it does not change what is valid. */
const NO_DATA_DEFAULT_MS = 300_000;

/**
 * Admin rule changes (issue 13, item 4; the admin role is checked by
 * apiAuthRoute before this runs):
 *
 *   GET    /api/rules/document   the rules set through the API (404: none, the alerters use their file)
 *   PUT    /api/rules            {"rules": {...rules file as JSON...}, "comment": "..."}, or the
 *                                rules file as YAML (content-type application/yaml or text/yaml)
 *   DELETE /api/rules            remove it: the alerters go back to RULES_FILE
 *
 * A PUT is validated by the alerter's compileRules (400 with every bad rule
 * and field named), stored in Redis (keys.rulesDoc) with a new version, and
 * recorded in the audit stream with who made it and which rules changed.
 * Every alerter reloads it within a few seconds without a restart
 * (rules-store.ts); GET /api/rules then shows the rules in force.
 */
export function rulesAdminRoute(redis: Redis, keys: Keys, log: Logger): Route {
  const admin: AdminDocument<Record<string, unknown>> = {
    redis,
    keys,
    log,
    key: keys.rulesDoc,
    kind: 'rules-changed',
    what: 'rules',
    read: async () => {
      const d = await readRulesDoc(redis, keys);
      return d && { version: d.version, body: d.rules };
    },
    check: checkRules,
    serialise: ({ version, body, ...rest }) =>
      JSON.stringify(RulesDocument.parse({ version, rules: body, ...rest })),
    changes: ruleChanges,
  };
  return async (req, res, url) => {
    if (url.pathname === '/api/rules/document' && req.method === 'GET') {
      const doc = await readRulesDoc(redis, keys).catch((err: unknown) => {
        log.error({ err }, 'stored rules document unreadable');
        return null;
      });
      if (doc === null) sendJson(res, 500, { error: 'the stored rules document is unreadable' });
      else if (doc === undefined)
        sendJson(res, 404, { error: 'no rules set through the API: the alerters use their file' });
      else sendJson(res, 200, doc);
      return true;
    }
    if (url.pathname !== '/api/rules') return false;
    if (req.method === 'PUT') return putAdminDocument(admin, req, res);
    if (req.method === 'DELETE') return removeAdminDocument(admin, req, res);
    return false; // GET /api/rules: rules-route.ts
  };
}

/** The alerter's compileRules: a 400 naming every bad rule and field. */
function checkRules(
  sent: Record<string, unknown>,
): { body: Record<string, unknown> } | { error: string; issues: unknown[] } {
  try {
    compileRules(sent, NO_DATA_DEFAULT_MS);
    return { body: sent };
  } catch (err) {
    if (!(err instanceof RulesError)) throw err;
    return {
      error: 'invalid rules',
      issues: err.issues.map((i) => ({
        ...(i.rule !== undefined ? { rule: i.rule } : {}),
        field: i.field,
        message: i.message,
      })),
    };
  }
}

/** `+name` (added), `~name` (changed), `-name` (no longer in the document), by rule name. */
export function ruleChanges(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown>,
): string[] {
  const rulesOf = (d: Record<string, unknown> | undefined): Record<string, unknown> => {
    const r = d?.['rules'];
    return r && typeof r === 'object' ? (r as Record<string, unknown>) : {};
  };
  const a = rulesOf(before);
  const b = rulesOf(after);
  const out: string[] = [];
  for (const [name, spec] of Object.entries(b)) {
    if (!(name in a)) out.push(`+${name}`);
    else if (JSON.stringify(a[name]) !== JSON.stringify(spec)) out.push(`~${name}`);
  }
  for (const name of Object.keys(a)) if (!(name in b)) out.push(`-${name}`);
  for (const key of new Set([...Object.keys(before ?? {}), ...Object.keys(after)])) {
    if (key !== 'rules' && JSON.stringify(before?.[key]) !== JSON.stringify(after[key]))
      out.push(`~(${key})`);
  }
  return out.slice(0, 200);
}
