import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CatalogueDocument,
  CatalogueError,
  compileCatalogue,
  loadCatalogueInForce,
  readCatalogueDoc,
  resolveStrategy,
  sendJson,
  StrategyId,
  type CatalogueFile,
  type Keys,
  type Logger,
  type Route,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { removeAdminDocument } from './admin-document.js';
import { writeAudit } from './audit-log.js';
import { callerName } from './auth.js';
import { readBody } from './rules-admin-route.js';

const PutBody = z.strictObject({
  /** The catalogue file's content, as JSON (README "Strategy catalogue"). */
  catalogue: z.record(z.string(), z.unknown()),
  comment: z.string().max(1024).optional(),
});

export interface CatalogueRouteOptions {
  redis: Redis;
  keys: Keys;
  /** STRATEGIES_FILE, to show what is in force when no document is set. */
  file: string | undefined;
  log: Logger;
}

/**
 * The strategy catalogue over REST (issue 15, item 1; PUT and DELETE need
 * the admin role, checked by apiAuthRoute through roles.ts):
 *
 *   GET    /api/catalogue                the catalogue in force, where it came from, its version
 *   GET    /api/catalogue/resolve?strategy=ID  what one strategy is scored with
 *   PUT    /api/catalogue                {"catalogue": {...file as JSON...}, "comment": "..."}, or the
 *                                        file as YAML (content-type application/yaml or text/yaml)
 *   DELETE /api/catalogue                remove the API's catalogue: every service goes back to STRATEGIES_FILE
 *
 * A PUT is validated by compileCatalogue (400 with every bad entry and
 * field named), stored in Redis (keys.catalogueDoc) with a new version, and
 * recorded in the audit stream as `catalogue-changed`. Every scorer
 * replica polls the version (LiveCatalogue) and reloads without a restart,
 * rebuilding the windows of strategies whose parameters changed.
 */
export function catalogueRoutes(opts: CatalogueRouteOptions): Route {
  const { redis, keys, file, log } = opts;
  return async (req, res, url) => {
    if (url.pathname === '/api/catalogue/resolve' && req.method === 'GET') {
      const id = StrategyId.safeParse(url.searchParams.get('strategy') ?? '');
      if (!id.success) {
        sendJson(res, 400, { error: 'strategy: a strategy id is required (?strategy=ID)' });
        return true;
      }
      const loaded = await inForce(opts, res);
      if (loaded) {
        // paramsKey is the scorer's rebuild fingerprint: internal, not part of the answer.
        const {
          id: strategy,
          displayName,
          benchmark,
          tags,
          params,
          windows,
          matched,
        } = resolveStrategy(loaded.catalogue, id.data);
        sendJson(res, 200, {
          id: strategy,
          displayName,
          benchmark,
          tags,
          params,
          windows,
          matched,
        });
      }
      return true;
    }
    if (url.pathname !== '/api/catalogue') return false;
    if (req.method === 'GET') {
      const loaded = await inForce(opts, res);
      if (!loaded) return true;
      const doc = loaded.source === 'api' ? await readCatalogueDoc(redis, keys) : undefined;
      sendJson(res, 200, {
        source: loaded.source,
        file: file ?? null,
        version: loaded.catalogue.version,
        catalogue: loaded.catalogue.file,
        ...(doc
          ? { document: { version: doc.version, by: doc.by, at: doc.at, ...comment(doc) } }
          : {}),
      });
      return true;
    }
    if (req.method === 'PUT') return putCatalogue(opts, req, res);
    if (req.method === 'DELETE')
      return removeAdminDocument(
        {
          redis,
          keys,
          log,
          key: keys.catalogueDoc,
          kind: 'catalogue-changed',
          what: 'catalogue',
          read: async () => {
            const d = await readCatalogueDoc(redis, keys);
            return d && { version: d.version, body: d.catalogue };
          },
          changes: (before) => catalogueChanges(before, {}),
        },
        req,
        res,
      );
    return false;
  };
}

const comment = (d: { comment?: string | undefined }): { comment?: string } =>
  d.comment !== undefined ? { comment: d.comment } : {};

/** The catalogue in force; a 500 naming the problem when the stored one cannot be read. */
async function inForce(
  opts: CatalogueRouteOptions,
  res: ServerResponse,
): Promise<Awaited<ReturnType<typeof loadCatalogueInForce>> | undefined> {
  try {
    return await loadCatalogueInForce(opts.redis, opts.keys, opts.file);
  } catch (err) {
    opts.log.error({ err }, 'catalogue in force unreadable');
    sendJson(res, 500, {
      error: `the catalogue in force is unreadable: ${(err as Error).message}`,
    });
    return undefined;
  }
}

async function putCatalogue(
  opts: CatalogueRouteOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<true> {
  const { redis, keys, log } = opts;
  const text = await readBody(req);
  if (text === undefined) {
    sendJson(res, 413, { error: 'body too large' });
    return true;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  let body: unknown;
  try {
    body =
      type === 'application/yaml' || type === 'text/yaml'
        ? { catalogue: parseYaml(text) ?? {} }
        : JSON.parse(text);
  } catch (err) {
    sendJson(res, 400, { error: `not valid ${type || 'JSON'}: ${(err as Error).message}` });
    return true;
  }
  const input = PutBody.safeParse(body);
  if (!input.success) {
    sendJson(res, 400, {
      error: 'invalid body: {"catalogue": {...}, "comment"?: "..."}',
      issues: input.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
    return true;
  }
  let file: CatalogueFile;
  try {
    file = compileCatalogue(input.data.catalogue).file;
  } catch (err) {
    if (!(err instanceof CatalogueError)) throw err;
    sendJson(res, 400, { error: 'invalid catalogue', issues: err.issues });
    return true;
  }
  const before = await readCatalogueDoc(redis, keys).catch(() => undefined);
  const by = callerName(req);
  const doc: CatalogueDocument = {
    version: (before?.version ?? 0) + 1,
    catalogue: file,
    by,
    at: Date.now(),
    ...comment(input.data),
  };
  await redis.set(keys.catalogueDoc, JSON.stringify(CatalogueDocument.parse(doc)));
  const changes = catalogueChanges(before?.catalogue, file);
  await writeAudit(redis, keys, {
    kind: 'catalogue-changed',
    at: doc.at,
    by,
    version: doc.version,
    changes,
    ...comment(doc),
  });
  log.info({ by, version: doc.version, changes }, 'catalogue document set');
  sendJson(res, 200, { version: doc.version, by, at: doc.at, changes });
  return true;
}

/**
 * `+key` (added), `~key` (changed), `-key` (gone) by strategy id or
 * pattern, against the API's document before (or nothing); `~(defaults)`
 * and the like for top-level sections.
 */
export function catalogueChanges(
  before: CatalogueFile | undefined,
  after: CatalogueFile | Record<string, never>,
): string[] {
  const a: Record<string, unknown> = before?.strategies ?? {};
  const b: Record<string, unknown> = ('strategies' in after ? after.strategies : undefined) ?? {};
  const out: string[] = [];
  for (const [key, spec] of Object.entries(b)) {
    if (!(key in a)) out.push(`+${key}`);
    else if (JSON.stringify(a[key]) !== JSON.stringify(spec)) out.push(`~${key}`);
  }
  for (const key of Object.keys(a)) if (!(key in b)) out.push(`-${key}`);
  const top = (f: object | undefined): Record<string, unknown> => ({ ...(f ?? {}) });
  const ta = top(before);
  const tb = top(after);
  for (const key of new Set([...Object.keys(ta), ...Object.keys(tb)])) {
    if (key !== 'strategies' && JSON.stringify(ta[key]) !== JSON.stringify(tb[key])) {
      out.push(`~(${key})`);
    }
  }
  return out.slice(0, 200);
}
