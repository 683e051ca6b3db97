import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * - `blocking`: stream loops and BullMQ. Commands wait through a reconnect
 *   (maxRetriesPerRequest null, as BullMQ requires for workers).
 * - `fail-fast`: request paths (HTTP ingest, BullMQ Queue producers). With
 *   Redis down a command fails at once so the caller can answer 503 instead
 *   of hanging.
 *
 * (ioredis's autoResendUnfulfilledCommands stays on: with it off, ioredis 6
 * left a MULTI in flight during a Redis restart unsettled for good, which
 * hung the scorer: test/integration/scorer-restart.test.ts.)
 */
export type RedisRole = 'blocking' | 'fail-fast';

/** Exponential backoff from 50 ms to 2 s, with jitter so replicas do not reconnect in step. */
export function reconnectDelay(attempt: number): number {
  const base = Math.min(2000, 50 * 2 ** Math.min(attempt, 10));
  return Math.round(base / 2 + (base / 2) * jitter(attempt));
}

/** Deterministic spread in [0, 1) from the attempt number and pid: no randomness needed. */
function jitter(attempt: number): number {
  const x = Math.sin(attempt * 12.9898 + process.pid * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

export function redisOptions(role: RedisRole, name: string) {
  return {
    connectionName: name,
    retryStrategy: reconnectDelay,
    maxRetriesPerRequest: role === 'fail-fast' ? 1 : null,
    enableOfflineQueue: role !== 'fail-fast',
    // Reconnect after READONLY (failover) so writes land on the new primary.
    reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
  } satisfies RedisOptions;
}

export function createRedis(url: string, role: RedisRole, name: string, log?: Logger): Redis {
  const redis = new Redis(url, redisOptions(role, name));
  if (log) {
    let down = false;
    redis.on('error', (err: Error) => {
      if (!down) log.warn({ err: err.message, connection: name }, 'redis connection error');
      down = true;
    });
    redis.on('ready', () => {
      if (down) log.info({ connection: name }, 'redis connection restored');
      down = false;
    });
  } else {
    redis.on('error', () => undefined);
  }
  return redis;
}

/** Wait until a connection is ready (or throw after timeoutMs). */
export async function waitReady(redis: Redis, timeoutMs = 30_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** Close politely, falling back to disconnect when Redis is unreachable. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 1000))]);
  } catch {
    // already closing or unreachable
  }
  redis.disconnect();
}
