import { randomInt } from 'node:crypto';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';
import { readAheadOnConnect } from './redis-read-ahead.js';

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

/**
 * Exponential backoff from 50 ms to 2 s with random jitter ("equal
 * jitter"): replicas that lost Redis together do not reconnect in step. The
 * jitter must be random: a pid-derived one is the same in every container.
 */
export function reconnectDelay(attempt: number): number {
  const base = Math.min(2000, 50 * 2 ** Math.min(attempt, 10));
  return Math.round(base / 2 + (base / 2) * (randomInt(0, 1_000_000) / 1_000_000));
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

/** Where Redis is: a URL, or a service config (REDIS_URL, or REDIS_CLUSTER_NODES when set). */
export type RedisTarget = string | { redisUrl: string; clusterNodes: readonly string[] };

/**
 * ioredis Cluster options for a role. Reads go to masters (a replica may
 * lag, and stream consumers must see their own writes); commands wait out a
 * failover (retryDelayOnFailover / ClusterDown / TryAgain) instead of
 * failing, except on fail-fast paths.
 */
export function clusterOptions(role: RedisRole, name: string): ClusterOptions {
  const { retryStrategy, ...node } = redisOptions(role, name);
  return {
    scaleReads: 'master',
    enableOfflineQueue: role !== 'fail-fast',
    clusterRetryStrategy: retryStrategy,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    // After a failover the survivors still redirect to the dead master for a moment:
    // a short pause between MOVED retries keeps them from using up maxRedirections.
    retryDelayOnMoved: 100,
    maxRedirections: 32,
    slotsRefreshTimeout: 2000,
    slotsRefreshInterval: 5000,
    redisOptions: node,
  };
}

function clusterNode(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}

/**
 * One connection (a single Redis) or one Cluster client, typed as Redis:
 * ioredis's Cluster offers the same commands, and quantmon only sends
 * commands whose keys share a slot (one partition's hash tag), so the
 * services are written once for both topologies.
 */
export function createRedis(
  target: RedisTarget,
  role: RedisRole,
  name: string,
  log?: Logger,
): Redis {
  const nodes = typeof target === 'string' ? [] : target.clusterNodes;
  const url = typeof target === 'string' ? target : target.redisUrl;
  let redis: Redis;
  if (nodes.length > 0) {
    const options = clusterOptions(role, name);
    options.redisOptions = Object.assign({}, options.redisOptions, credentials(nodes[0]!));
    // exactOptionalPropertyTypes trips on ioredis's own option types: the shape is checked by clusterOptions().
    redis = new Cluster(nodes.map(clusterNode), options as never) as unknown as Redis;
  } else {
    redis = new Redis(url, redisOptions(role, name));
  }
  readAheadOnConnect(redis);
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

/** User and password of a seed URL: every node of a Cluster shares them. */
function credentials(url: string): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  const u = new URL(url);
  const out: Pick<RedisOptions, 'username' | 'password' | 'tls'> = {};
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') out.tls = {};
  return out;
}

/** True for a Cluster client made by createRedis. */
export function isCluster(redis: Redis): boolean {
  return (redis as unknown) instanceof Cluster;
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
