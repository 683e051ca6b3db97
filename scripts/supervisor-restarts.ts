/**
 * Where `npm start`'s restarts become visible on the dashboard: each
 * restart the supervisor decides is written to Redis as a
 * SupervisorRestart record (packages/shared/src/supervisor-restarts.ts),
 * which the gateway's GET /api/pipeline reads and the pipeline view shows
 * per service. Best effort: a write that fails is reported once through
 * `onError` and never delays or stops a restart.
 */
import type { Redis } from 'ioredis';
import { keysFor } from '../packages/shared/src/keys.js';
import { createRedis, waitReady, type RedisTarget } from '../packages/shared/src/redis.js';
import { abortableSleep } from '../packages/shared/src/sleep.js';
import {
  SupervisorRestart,
  supervisorRestartField,
} from '../packages/shared/src/supervisor-restarts.js';

export interface RestartEvent {
  child: string;
  /** The file it runs (services/scorer/src/main.ts): names the service. */
  file: string;
  code: number | null;
  signal: string | null;
  /** describeExit's words. */
  how: string;
  /** Restarts of this child so far, this one included. */
  restarts: number;
  at: number;
}

/** `services/<name>/...` -> name; anything else (the demo feed) by its file name. */
export function serviceOfFile(file: string): string {
  const m = /(?:^|\/)services\/([^/]+)\//.exec(file);
  return m ? m[1]! : (file.split('/').pop() ?? file).replace(/\.[cm]?[jt]s$/, '');
}

/** The record of one restart, checked against its schema (the gateway reads it with the same). */
export function restartRecord(
  e: RestartEvent,
  host: string,
  supervisorStartedAt: number,
): SupervisorRestart {
  return SupervisorRestart.parse({
    service: serviceOfFile(e.file),
    child: e.child,
    host,
    restarts: e.restarts,
    lastAt: e.at,
    lastExit: e.how,
    exitCode: e.code,
    signal: e.signal,
    supervisorStartedAt,
  });
}

export interface RestartLog {
  record(e: RestartEvent): void;
  /** Clears this host's records (a clean stop: the counts were this npm start's) and disconnects. */
  close(): Promise<void>;
}

export interface RestartLogOptions {
  target: RedisTarget;
  prefix: string;
  host: string;
  onError: (message: string) => void;
}

async function clearHost(redis: Redis, key: string, host: string): Promise<void> {
  const mine = (await redis.hkeys(key)).filter((f) => f.startsWith(`${host}/`));
  if (mine.length > 0) await redis.hdel(key, ...mine);
}

/** How long close() waits to clear this host's records before it lets go. */
export const CLOSE_WAIT_MS = 2000;

/** Connects and clears what an earlier npm start on this host left (its counts were its own). */
export async function openRestartLog(opts: RestartLogOptions): Promise<RestartLog> {
  const key = keysFor(opts.prefix).supervisorRestarts;
  const redis = createRedis(opts.target, 'fail-fast', 'quantmon-supervisor');
  const startedAt = Date.now();
  let failing = false;
  const failed = (err: unknown): void => {
    if (!failing) opts.onError(`restart not recorded in Redis: ${(err as Error).message}`);
    failing = true;
  };
  // Fail-fast (no offline queue: a restart never waits on Redis), so wait until it is connected.
  await waitReady(redis, 10_000)
    .then(() => clearHost(redis, key, opts.host))
    .catch(failed);
  let closing: Promise<void> | undefined;
  return {
    record(e) {
      let json: string;
      try {
        json = JSON.stringify(restartRecord(e, opts.host, startedAt));
      } catch (err) {
        return failed(err);
      }
      const write = (): Promise<void> =>
        redis.hset(key, supervisorRestartField(opts.host, e.child), json).then(() => {
          failing = false;
        }, failed);
      // Redis itself restarted (npm start's own), or a blip: written once the
      // connection is back, within the same 10 s as at the start.
      if (redis.status === 'ready') void write();
      else waitReady(redis, 10_000).then(write, failed);
    },
    close() {
      closing ??= (async () => {
        const cleared = clearHost(redis, key, opts.host).catch(() => {
          // Redis already gone: the records stay until the next npm start on this host
        });
        // Bounded: a command to a Redis that stopped answering (hung, paused,
        // or killed just as npm start is told to stop, as a benchmark's is)
        // could wait for good, and npm start never stopped its services.
        const waited = new AbortController();
        await Promise.race([cleared, abortableSleep(CLOSE_WAIT_MS, waited.signal)]);
        waited.abort();
        redis.disconnect();
      })();
      return closing;
    },
  };
}
