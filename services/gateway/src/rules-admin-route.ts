import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, type Keys, type Logger, type Route } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
// The alerter's own loader validates: the gateway accepts exactly what an alerter would load.
import { compileRules, RulesError } from '../../alerter/src/rules.js';
import { readRulesDoc, RulesDocument } from '../../alerter/src/rules-store.js';
import { removeAdminDocument } from './admin-document.js';
import { writeAudit } from './audit-log.js';
import { callerName } from './auth.js';

const MAX_BODY = 256 * 1024;
/** compileRules needs a no-data default; it does not change what is valid. */
const NO_DATA_DEFAULT_MS = 300_000;

const PutBody = z.strictObject({
  /** The rules file's content, as JSON (docs/alerts.md). */
  rules: z.record(z.string(), z.unknown()),
  comment: z.string().max(1024).optional(),
});

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
    if (req.method === 'PUT') return putRules(redis, keys, req, res, log);
    if (req.method === 'DELETE')
      return removeAdminDocument(
        {
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
          changes: (before) => ruleChanges(before, {}),
        },
        req,
        res,
      );
    return false; // GET /api/rules: rules-route.ts
  };
}

async function putRules(
  redis: Redis,
  keys: Keys,
  req: IncomingMessage,
  res: ServerResponse,
  log: Logger,
): Promise<true> {
  const text = await readBody(req);
  if (text === undefined) {
    sendJson(res, 413, { error: `body over ${MAX_BODY} bytes` });
    return true;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  let body: unknown;
  try {
    body =
      type === 'application/yaml' || type === 'text/yaml'
        ? { rules: parseYaml(text) ?? {} }
        : JSON.parse(text);
  } catch (err) {
    sendJson(res, 400, { error: `not valid ${type ?? 'JSON'}: ${(err as Error).message}` });
    return true;
  }
  const input = PutBody.safeParse(body);
  if (!input.success) {
    sendJson(res, 400, {
      error: 'invalid body: {"rules": {...}, "comment"?: "..."}',
      issues: input.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
    return true;
  }
  try {
    compileRules(input.data.rules, NO_DATA_DEFAULT_MS);
  } catch (err) {
    if (!(err instanceof RulesError)) throw err;
    sendJson(res, 400, {
      error: 'invalid rules',
      issues: err.issues.map((i) => ({
        ...(i.rule !== undefined ? { rule: i.rule } : {}),
        field: i.field,
        message: i.message,
      })),
    });
    return true;
  }
  const before = await readRulesDoc(redis, keys).catch(() => undefined);
  const by = callerName(req);
  const doc: RulesDocument = {
    version: (before?.version ?? 0) + 1,
    rules: input.data.rules,
    by,
    at: Date.now(),
    ...(input.data.comment !== undefined ? { comment: input.data.comment } : {}),
  };
  await redis.set(keys.rulesDoc, JSON.stringify(RulesDocument.parse(doc)));
  const changes = ruleChanges(before?.rules, input.data.rules);
  await writeAudit(redis, keys, {
    kind: 'rules-changed',
    at: doc.at,
    by,
    version: doc.version,
    changes,
    ...(doc.comment !== undefined ? { comment: doc.comment } : {}),
  });
  log.info({ by, version: doc.version, changes }, 'rules document set');
  sendJson(res, 200, { version: doc.version, by, at: doc.at, changes });
  return true;
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

export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY)
      over = true; // keep draining so the answer reaches the client
    else chunks.push(chunk);
  }
  return over ? undefined : Buffer.concat(chunks).toString('utf8');
}
