import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, type Keys, type Logger } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { writeAudit } from './audit-log.js';
import { callerName } from './auth.js';

/** A document an admin sets through the API (rules, catalogue), as stored in Redis. */
interface StoredDocument<T> {
  version: number;
  body: T;
}

/**
 * DELETE of an admin document (`/api/rules`, `/api/catalogue`): the
 * services go back to their file, and the removal is audited with what it
 * took away. 404 when no document was set through the API.
 */
export async function removeAdminDocument<T>(
  o: {
    redis: Redis;
    keys: Keys;
    log: Logger;
    /** The Redis key of the document. */
    key: string;
    /** Audit kind and the noun of the messages. */
    kind: 'rules-changed' | 'catalogue-changed';
    what: 'rules' | 'catalogue';
    read: () => Promise<StoredDocument<T> | undefined>;
    /** What the removal took away, as the PUT's change list gives it. */
    changes: (before: T) => string[];
  },
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
    changes: o.changes(before.body),
  });
  o.log.info({ by, version: before.version }, `${o.what} document removed`);
  sendJson(res, 200, { removed: true, version: before.version });
  return true;
}
