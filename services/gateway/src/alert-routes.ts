import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AckInput,
  AlertEvent,
  AlertsQuery,
  allPartitions,
  decodeEntry,
  encodeEntry,
  ensurePartitionCount,
  Incident,
  readJsonHash,
  sendJson,
  Silence,
  SilenceInput,
  silenceStatus,
  STREAM_MAXLEN,
  type AlertCommand,
  type AlertsResponse,
  type Keys,
  type Route,
  type SilencesResponse,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { readAudit, writeAudit } from './audit-log.js';
import { callerName } from './auth.js';
import { newestFirst } from './newest-first.js';

const MAX_BODY = 64 * 1024;
/** History scans stop after this many stream entries per request (the stream is bounded anyway). */
const MAX_SCAN = 20_000;
const PAGE = 1000;

export interface AlertRoutesOptions {
  /** The pipeline's partition count P; unset: read (or fixed) in Redis at the first request. */
  partitions?: number;
  now?: () => number;
}

/**
 * The alert API (public contract): history, acknowledgement and silences.
 * Alert events and open incidents are read from every partition (each
 * partition's alerter writes its own stream and incidents hash). Acks and
 * silence changes are handed to the alerters as commands on the global
 * alert-commands stream; silences themselves live in the silences hash.
 * Each ack and silence change is also written to the audit stream with who
 * made it (the request's token name: see auth.ts), and GET /api/alerts
 * answers those changes next to the events (`audit`).
 *
 *   GET    /api/alerts?state=&level=&from=&to=&limit=
 *   POST   /api/alerts/{incidentId}/ack      {"by": "...", "comment": "..."}
 *   POST   /api/silences                     {"matchers": [...], "durationMs" | "endsAt", "createdBy", "comment"}
 *   GET    /api/silences
 *   DELETE /api/silences/{id}                (expires it now)
 */
export function alertRoutes(redis: Redis, keys: Keys, opts: AlertRoutesOptions = {}): Route {
  const now = opts.now ?? Date.now;
  let partitions: Promise<number> | undefined =
    opts.partitions === undefined ? undefined : Promise.resolve(opts.partitions);
  const parts = async (): Promise<number[]> => {
    partitions ??= ensurePartitionCount(redis, keys, undefined);
    try {
      return allPartitions(await partitions);
    } catch (err) {
      partitions = undefined; // Redis was unavailable: ask again next time
      throw err;
    }
  };
  return async (req, res, url) => {
    const path = url.pathname;
    if (path === '/api/alerts') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      await listAlerts(redis, keys, await parts(), url, res, now());
      return true;
    }
    const ack = /^\/api\/alerts\/([^/]+)\/ack$/.exec(path);
    if (ack) {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      const id = decodeURIComponent(ack[1] ?? '');
      await acknowledge(redis, keys, await parts(), id, req, res, now(), callerName(req));
      return true;
    }
    if (path === '/api/silences') {
      if (req.method === 'GET') await listSilences(redis, keys, res, now());
      else if (req.method === 'POST')
        await createSilence(redis, keys, req, res, now(), callerName(req));
      else return methodNotAllowed(res, 'GET, POST');
      return true;
    }
    const one = /^\/api\/silences\/([^/]+)$/.exec(path);
    if (one) {
      if (req.method !== 'DELETE') return methodNotAllowed(res, 'DELETE');
      const id = decodeURIComponent(one[1] ?? '');
      await expireSilence(redis, keys, id, res, now(), callerName(req));
      return true;
    }
    return false;
  };
}

function methodNotAllowed(res: ServerResponse, allow: string): true {
  sendJson(res, 405, { error: 'method not allowed' }, { allow });
  return true;
}

function badRequest(res: ServerResponse, error: string, issues?: z.core.$ZodIssue[]): void {
  sendJson(res, 400, {
    error,
    ...(issues
      ? { issues: issues.map((i) => ({ path: i.path.join('.'), message: i.message })) }
      : {}),
  });
}

/** The JSON body (undefined when empty), or an answered 400/413. */
async function readJson(
  req: IncomingMessage,
  res: ServerResponse,
): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) {
      sendJson(res, 413, { error: `body over ${MAX_BODY} bytes` });
      return { ok: false };
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    badRequest(res, `invalid JSON: ${(err as Error).message}`);
    return { ok: false };
  }
}

/**
 * Open incidents of every partition. Unreadable records are skipped here:
 * the alerter, which owns them, logs those.
 */
async function openIncidents(redis: Redis, keys: Keys, parts: number[]): Promise<Incident[]> {
  const hashes = await Promise.all(
    parts.map((p) => readJsonHash(redis, keys.partition(p).incidents, Incident)),
  );
  return hashes.flatMap((h) => [...h.values()]);
}

async function sendCommand(redis: Redis, keys: Keys, cmd: AlertCommand): Promise<void> {
  await redis.xadd(
    keys.alertCommands,
    'MAXLEN',
    '~',
    STREAM_MAXLEN.alertCommands,
    '*',
    ...encodeEntry(cmd),
  );
}

async function listAlerts(
  redis: Redis,
  keys: Keys,
  parts: number[],
  url: URL,
  res: ServerResponse,
  now: number,
): Promise<void> {
  const q = AlertsQuery.safeParse(Object.fromEntries(url.searchParams));
  if (!q.success) return badRequest(res, 'invalid query', q.error.issues);
  const { state, level, from, to, limit } = q.data;
  const keep = (e: AlertEvent): boolean =>
    (!state || e.state === state) && (!level || e.level === level);
  const active = (await openIncidents(redis, keys, parts))
    .map((i) => i.firing)
    .filter(keep)
    .sort((a, b) => b.startsAt - a.startsAt);
  // Newest first over every partition's alerts stream (each bounded by its
  // MAXLEN), merged by id: ids are write times.
  const events: AlertEvent[] = [];
  const end = to === undefined ? '+' : `${to}-18446744073709551615`;
  const start = from === undefined ? '-' : `${from}-0`;
  const sources = parts.map((part) => ({ part, key: keys.partition(part).alerts }));
  const page = Math.min(PAGE, limit + 1);
  let scanned = 0;
  for await (const { entry } of newestFirst(redis, sources, end, start, page)) {
    if (events.length >= limit || scanned >= MAX_SCAN) break;
    scanned++;
    const d = decodeEntry(entry[1], AlertEvent);
    if (d.ok && keep(d.value)) events.push(d.value);
  }
  let nextTo: number | undefined;
  const oldest = events[events.length - 1];
  if ((events.length >= limit || scanned >= MAX_SCAN) && oldest) nextTo = oldest.ts - 1;
  const silences = (await readSilences(redis, keys)).values();
  const audit = await readAudit(redis, keys, silences, { from, to, limit }, now);
  const body: AlertsResponse = {
    active,
    events,
    audit,
    ...(nextTo !== undefined ? { nextTo } : {}),
  };
  sendJson(res, 200, body);
}

async function acknowledge(
  redis: Redis,
  keys: Keys,
  parts: number[],
  incidentId: string,
  req: IncomingMessage,
  res: ServerResponse,
  now: number,
  who: string,
): Promise<void> {
  const body = await readJson(req, res);
  if (!body.ok) return;
  const input = AckInput.safeParse(body.value ?? {});
  if (!input.success) return badRequest(res, 'invalid acknowledgement', input.error.issues);
  const open = (await openIncidents(redis, keys, parts)).find(
    (i) => i.firing.incidentId === incidentId,
  );
  if (!open) {
    sendJson(res, 404, { error: `no open incident ${incidentId}` });
    return;
  }
  const ack = {
    by: input.data.by,
    at: now,
    ...(input.data.comment !== undefined ? { comment: input.data.comment } : {}),
    tokenName: who,
  };
  await sendCommand(redis, keys, { type: 'ack', incidentId, ack });
  await writeAudit(redis, keys, { kind: 'acknowledged', at: now, by: who, incidentId, ack });
  // 202: the alerter applies it and publishes the acknowledged event on the alerts stream.
  sendJson(res, 202, { incidentId, acknowledged: ack });
}

function readSilences(redis: Redis, keys: Keys): Promise<Map<string, Silence>> {
  return readJsonHash(redis, keys.silences, Silence);
}

async function listSilences(
  redis: Redis,
  keys: Keys,
  res: ServerResponse,
  now: number,
): Promise<void> {
  const silences = [...(await readSilences(redis, keys)).values()]
    .map((s) => ({ ...s, status: silenceStatus(s, now) }))
    .sort((a, b) => b.createdAt - a.createdAt);
  const body: SilencesResponse = { silences };
  sendJson(res, 200, body);
}

async function createSilence(
  redis: Redis,
  keys: Keys,
  req: IncomingMessage,
  res: ServerResponse,
  now: number,
  who: string,
): Promise<void> {
  const body = await readJson(req, res);
  if (!body.ok) return;
  const input = SilenceInput.safeParse(body.value);
  if (!input.success) return badRequest(res, 'invalid silence', input.error.issues);
  const i = input.data;
  const startsAt = i.startsAt ?? now;
  const endsAt = i.endsAt ?? startsAt + (i.durationMs ?? 0);
  if (endsAt <= Math.max(startsAt, now)) {
    return badRequest(res, 'invalid silence', [
      {
        code: 'custom',
        path: ['endsAt'],
        message: 'must be in the future and after startsAt',
        input: endsAt,
      },
    ]);
  }
  const silence: Silence = {
    id: `s-${randomUUID()}`,
    matchers: i.matchers,
    startsAt,
    endsAt,
    createdBy: i.createdBy,
    comment: i.comment,
    createdAt: now,
  };
  await redis.hset(keys.silences, silence.id, JSON.stringify(silence));
  await sendCommand(redis, keys, { type: 'silences-changed', at: now });
  await writeAudit(redis, keys, { kind: 'silence-created', at: now, by: who, silence });
  sendJson(res, 201, { ...silence, status: silenceStatus(silence, now) });
}

async function expireSilence(
  redis: Redis,
  keys: Keys,
  id: string,
  res: ServerResponse,
  now: number,
  who: string,
): Promise<void> {
  const s = (await readSilences(redis, keys)).get(id);
  if (!s) {
    sendJson(res, 404, { error: `no silence ${id}` });
    return;
  }
  const expired: Silence =
    s.endsAt > now ? { ...s, endsAt: Math.max(now, s.startsAt), expiredBy: 'api' } : s;
  await redis.hset(keys.silences, id, JSON.stringify(expired));
  await sendCommand(redis, keys, { type: 'silences-changed', at: now });
  if (expired !== s) {
    await writeAudit(redis, keys, { kind: 'silence-deleted', at: now, by: who, silence: expired });
  }
  sendJson(res, 200, { ...expired, status: silenceStatus(expired, now) });
}
