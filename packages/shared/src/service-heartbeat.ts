import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Keys } from './keys.js';
import type { Logger } from './logger.js';
import { abortableSleep } from './sleep.js';

/**
 * Every service replica (collector, scorer, alerter, gateway) writes one
 * record per beat into one global hash (`keys.heartbeats`, field
 * `<service>/<replica>`), so the pipeline health panel and the collector's
 * `serviceSilence` figure can tell which replicas are up, since when, and
 * which stopped answering. A record outlives its replica (that is how a
 * SIGKILLed one shows as down) until HEARTBEAT_RETENTION_MS after its last
 * beat; a clean shutdown marks it `stoppedAt`.
 */
export const ServiceHeartbeat = z.strictObject({
  service: z.string().min(1).max(64),
  replica: z.string().min(1).max(200),
  host: z.string().min(1).max(255),
  pid: z.number().int().nonnegative(),
  /** The quantmon version the replica runs (the root package.json's). */
  version: z.string().min(1).max(64),
  /** Epoch ms the process started. */
  startedAt: z.number().int().nonnegative(),
  /** Epoch ms of the latest beat, on the replica's clock. */
  beatAt: z.number().int().nonnegative(),
  /** How often it beats, ms: a reader judges lateness against it. */
  intervalMs: z.number().int().positive(),
  /** Set by a clean shutdown (SIGTERM/SIGINT): stopped on purpose, not crashed. */
  stoppedAt: z.number().int().nonnegative().optional(),
});
export type ServiceHeartbeat = z.infer<typeof ServiceHeartbeat>;

export const HEARTBEAT_INTERVAL_MS = 1000;
/** Records of replicas silent this long are removed (a restarted service gets a new replica id). */
export const HEARTBEAT_RETENTION_MS = 6 * 3_600_000;

let cachedVersion: string | undefined;
/** The version in the repository's package.json; "unknown" when it cannot be read. */
export function quantmonVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    cachedVersion = typeof pkg.version === 'string' && pkg.version ? pkg.version : 'unknown';
  } catch {
    cachedVersion = 'unknown';
  }
  return cachedVersion;
}

export interface HeartbeatOptions {
  redis: Redis;
  keys: Keys;
  service: string;
  replica: string;
  log: Logger;
  intervalMs?: number;
}

/**
 * Beat until `signal` aborts, then mark the record stopped. Never throws: a
 * failed beat is logged (once per outage) and retried on the next one.
 * Returns the promise the shutdown manager awaits.
 */
export async function runServiceHeartbeat(
  opts: HeartbeatOptions,
  signal: AbortSignal,
): Promise<void> {
  const intervalMs = opts.intervalMs ?? HEARTBEAT_INTERVAL_MS;
  const field = `${opts.service}/${opts.replica}`;
  const base = {
    service: opts.service,
    replica: opts.replica,
    host: hostname() || 'host',
    pid: process.pid,
    version: quantmonVersion(),
    startedAt: Date.now(),
    intervalMs,
  };
  let failing = false;
  const write = async (record: ServiceHeartbeat): Promise<void> => {
    await opts.redis.hset(opts.keys.heartbeats, field, JSON.stringify(record));
  };
  let beats = 0;
  while (!signal.aborted) {
    const now = Date.now();
    try {
      await write({ ...base, beatAt: now });
      // Prune now and then, so a day of restarts leaves no pile of dead replicas.
      if (beats++ % 60 === 0) await pruneHeartbeats(opts.redis, opts.keys, now);
      if (failing) opts.log.info('heartbeat written again');
      failing = false;
    } catch (err) {
      if (!failing) opts.log.warn({ err }, 'heartbeat not written: retrying each interval');
      failing = true;
    }
    await abortableSleep(intervalMs, signal);
  }
  try {
    const now = Date.now();
    await write({ ...base, beatAt: now, stoppedAt: now });
  } catch {
    // the record goes stale and reads as down: the truth, seen from outside
  }
}

/** Every heartbeat record; unreadable fields are skipped. */
export async function readHeartbeats(redis: Redis, keys: Keys): Promise<ServiceHeartbeat[]> {
  const raw = await redis.hgetall(keys.heartbeats);
  return parseHeartbeats(raw);
}

export function parseHeartbeats(raw: Record<string, string>): ServiceHeartbeat[] {
  const out: ServiceHeartbeat[] = [];
  for (const json of Object.values(raw)) {
    try {
      const r = ServiceHeartbeat.safeParse(JSON.parse(json));
      if (r.success) out.push(r.data);
    } catch {
      // not JSON: skipped
    }
  }
  return out;
}

async function pruneHeartbeats(redis: Redis, keys: Keys, now: number): Promise<void> {
  const old = (await readHeartbeats(redis, keys)).filter(
    (h) => now - h.beatAt > HEARTBEAT_RETENTION_MS,
  );
  if (old.length > 0)
    await redis.hdel(keys.heartbeats, ...old.map((h) => `${h.service}/${h.replica}`));
}

export type ReplicaStatus = 'up' | 'down' | 'stopped';

/** A replica's state at `now`: stopped on purpose, up (beat within `downAfterMs`), or down. */
export function replicaStatus(
  h: ServiceHeartbeat,
  now: number,
  downAfterMs: number,
): ReplicaStatus {
  if (h.stoppedAt !== undefined) return 'stopped';
  return now - h.beatAt <= downAfterMs ? 'up' : 'down';
}

/**
 * Per service, seconds since any of its replicas last beat (0 while one
 * beats, counted from a clean stop too: a service stopped on purpose is
 * still a service that is not running). Its maximum over services is the
 * `serviceSilence` of a system sample, which the `service_down` rule watches.
 */
export function serviceSilence(
  records: readonly ServiceHeartbeat[],
  now: number,
): Map<string, number> {
  const newest = new Map<string, number>();
  for (const h of records) {
    const at = h.stoppedAt ?? h.beatAt;
    newest.set(h.service, Math.max(newest.get(h.service) ?? 0, at));
  }
  return new Map([...newest].map(([s, at]) => [s, Math.max(0, (now - at) / 1000)]));
}
