import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, type Keys, type Logger } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { writeAudit } from './audit-log.js';
import { callerName } from './auth.js';

const MAX_BODY = 256 * 1024;

/** A document an admin sets through the API (rules, catalogue), as stored in Redis. */
export interface StoredDocument<T> {
  version: number;
  body: T;
}

/** A version about to be stored: the document, who set it, when, and why. */
export interface NewDocument<T> extends StoredDocument<T> {
  by: string;
  at: number;
  comment?: string;
}

/**
 * An admin document (`/api/rules`, `/api/catalogue`): where it is kept, how
 * it is validated and stored, and how two versions differ. Its PUT and
 * DELETE share the handlers below; each route says only what differs.
 */
export interface AdminDocument<T> {
  redis: Redis;
  keys: Keys;
  log: Logger;
  /** The Redis key of the document. */
  key: string;
  /** Audit kind. */
  kind: 'rules-changed' | 'catalogue-changed';
  /** The noun of the messages, and the PUT body's field holding the document. */
  what: 'rules' | 'catalogue';
  read: () => Promise<StoredDocument<T> | undefined>;
  /** Validate the document sent: what to store, or the 400's error and issues. */
  check: (sent: Record<string, unknown>) => { body: T } | { error: string; issues: unknown[] };
  /** The stored JSON, through the document's own schema (a bad one is never written). */
  serialise: (doc: NewDocument<T>) => string;
  /** `+key`, `~key`, `-key` from one version to the next (`{}`: removed). */
  changes: (before: T | undefined, after: T | Record<string, never>) => string[];
}

const Sent = z.record(z.string(), z.unknown());
const Comment = z.string().max(1024).optional();
/** PUT bodies: the document under its own name, and why it changed. */
const PutBody = {
  /** The rules file's content, as JSON (docs/alerts.md). */
  rules: z
    .strictObject({ rules: Sent, comment: Comment })
    .transform(({ rules, comment }) => ({ sent: rules, comment })),
  /** The catalogue file's content, as JSON (README "Strategy catalogue"). */
  catalogue: z
    .strictObject({ catalogue: Sent, comment: Comment })
    .transform(({ catalogue, comment }) => ({ sent: catalogue, comment })),
};

/**
 * PUT of an admin document: `{"<what>": {...}, "comment": "..."}` as JSON,
 * or the file itself as YAML (content-type application/yaml or text/yaml).
 * Validated (400 naming every problem), stored with the next version, and
 * audited with who set it and what changed.
 */
export async function putAdminDocument<T>(
  o: AdminDocument<T>,
  req: IncomingMessage,
  res: ServerResponse,
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
        ? { [o.what]: parseYaml(text) ?? {} }
        : JSON.parse(text);
  } catch (err) {
    sendJson(res, 400, { error: `not valid ${type || 'JSON'}: ${(err as Error).message}` });
    return true;
  }
  const input = PutBody[o.what].safeParse(body);
  if (!input.success) {
    sendJson(res, 400, {
      error: `invalid body: {"${o.what}": {...}, "comment"?: "..."}`,
      issues: input.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
    return true;
  }
  const checked = o.check(input.data.sent);
  if (!('body' in checked)) {
    sendJson(res, 400, checked);
    return true;
  }
  const before = await o.read().catch(() => undefined);
  const { comment } = input.data;
  const doc: NewDocument<T> = {
    version: (before?.version ?? 0) + 1,
    body: checked.body,
    by: callerName(req),
    at: Date.now(),
    ...(comment !== undefined ? { comment } : {}),
  };
  await o.redis.set(o.key, o.serialise(doc));
  const changes = o.changes(before?.body, doc.body);
  const { version, by, at } = doc;
  await writeAudit(o.redis, o.keys, {
    kind: o.kind,
    at,
    by,
    version,
    changes,
    ...(comment !== undefined ? { comment } : {}),
  });
  o.log.info({ by, version, changes }, `${o.what} document set`);
  sendJson(res, 200, { version, by, at, changes });
  return true;
}

/**
 * DELETE of an admin document: the services go back to their file, and
 * the removal is audited with what it took away. 404 when no document was
 * set through the API.
 */
export async function removeAdminDocument<T>(
  o: AdminDocument<T>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<true> {
  const before = await o.read().catch(() => undefined);
  if (!before) {
    sendJson(res, 404, { error: `no ${o.what} set through the API` });
    return true;
  }
  await o.redis.del(o.key);
  const by = callerName(req);
  await writeAudit(o.redis, o.keys, {
    kind: o.kind,
    at: Date.now(),
    by,
    version: before.version,
    removed: true,
    changes: o.changes(before.body, {}),
  });
  o.log.info({ by, version: before.version }, `${o.what} document removed`);
  sendJson(res, 200, { removed: true, version: before.version });
  return true;
}

/** The body as text; undefined past MAX_BODY (read to the end, so the 413 reaches the client). */
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
