import type { ServerResponse } from 'node:http';
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
import { putAdminDocument, removeAdminDocument, type AdminDocument } from './admin-document.js';

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
  const admin: AdminDocument<CatalogueFile> = {
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
    check: checkCatalogue,
    serialise: ({ version, body, ...rest }) =>
      JSON.stringify(CatalogueDocument.parse({ version, catalogue: body, ...rest })),
    changes: catalogueChanges,
  };
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
        const { paramsKey, ...answer } = resolveStrategy(loaded.catalogue, id.data);
        sendJson(res, 200, answer);
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
    if (req.method === 'PUT') return putAdminDocument(admin, req, res);
    if (req.method === 'DELETE') return removeAdminDocument(admin, req, res);
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

/** compileCatalogue: a 400 naming every bad entry and field. */
function checkCatalogue(
  sent: Record<string, unknown>,
): { body: CatalogueFile } | { error: string; issues: unknown[] } {
  try {
    return { body: compileCatalogue(sent).file };
  } catch (err) {
    if (!(err instanceof CatalogueError)) throw err;
    return { error: 'invalid catalogue', issues: err.issues };
  }
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
