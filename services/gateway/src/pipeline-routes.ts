import {
  allPartitions,
  parseHeartbeats,
  parseSupervisorRestarts,
  readPipelineErrors,
  sendJson,
  type Keys,
  type Logger,
  type Route,
  type SystemSample,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
// One XINFO parser and one Cluster-aware batch reader for the whole project: the collector's.
import { readEach, type Command } from '../../collector/src/read-each.js';
import { parseGroups, parseStreamInfo } from '../../collector/src/xinfo.js';
import type { EmergencyQueueReader } from './emergency-queue.js';
import {
  errorRates,
  IngestRate,
  serviceViews,
  type GroupLag,
  type PipelineHealth,
} from './pipeline-health.js';

export interface PipelineRoutesOptions {
  redis: Redis;
  keys: Keys;
  partitions: number;
  emergency: EmergencyQueueReader;
  /** A replica silent longer than this is down (GATEWAY_SERVICE_DOWN_MS). */
  downAfterMs: number;
  /** The latest sample of every host (the gateway's state). */
  system: () => Iterable<SystemSample>;
  log: Logger;
}

/** Answers within this long of each other share one reading (many dashboards poll). */
const CACHE_MS = 1000;

/**
 * `GET /api/pipeline` (issue 13, item 2): the pipeline's own health. Each
 * service replica up, down or stopped (heartbeats in Redis, with version
 * and uptime) and how often npm start's supervisor restarted it; consumer lag per group and partition (XINFO GROUPS); ingest
 * rate; dead letters; pipeline errors and the hosts' error rates; the
 * emergency queue's counts. A part that cannot be read is null (or, for the
 * queue, an error) rather than failing the whole answer.
 */
export function pipelineRoutes(opts: PipelineRoutesOptions): Route {
  const ingest = new IngestRate();
  let cached: { at: number; body: Promise<PipelineHealth> } | undefined;
  return async (req, res, url) => {
    if (url.pathname !== '/api/pipeline' || req.method !== 'GET') return false;
    const now = Date.now();
    if (!cached || now - cached.at >= CACHE_MS) {
      const body = readHealth(opts, ingest, now);
      cached = { at: now, body };
      body.catch(() => (cached = undefined));
    }
    sendJson(res, 200, await cached.body, { 'cache-control': 'no-store' });
    return true;
  };
}

const WATCHED = [
  ['strategy-samples', 'strategySamples'],
  ['scores', 'scores'],
  ['system-samples', 'systemSamples'],
] as const;

async function readHealth(
  opts: PipelineRoutesOptions,
  ingest: IngestRate,
  now: number,
): Promise<PipelineHealth> {
  const { redis, keys } = opts;
  const parts = allPartitions(opts.partitions);
  const commands: Command[] = [
    ['HGETALL', keys.heartbeats],
    ['XLEN', keys.deadLetter],
    ['XINFO', 'GROUPS', keys.alertCommands],
    ['HGETALL', keys.supervisorRestarts],
  ];
  for (const p of parts) {
    const pk = keys.partition(p);
    commands.push(['XINFO', 'STREAM', pk.strategySamples]);
    for (const [, k] of WATCHED) commands.push(['XINFO', 'GROUPS', pk[k]]);
  }
  const [replies, errors, queue] = await Promise.all([
    readEach(redis, commands),
    readPipelineErrors(redis, keys, now, 60).catch(() => null),
    opts.emergency.counts().catch((err: unknown) => {
      opts.log.warn({ err }, 'emergency queue counts not readable');
      return { error: `not readable: ${(err as Error).message}` };
    }),
  ]);
  const value = (i: number): unknown => {
    const r = replies[i];
    return r?.ok ? r.value : undefined;
  };
  const lag: GroupLag[] = [];
  const addGroups = (stream: string, partition: number | null, reply: unknown): void => {
    for (const g of parseGroups(reply)) {
      lag.push({
        stream,
        group: g.name,
        partition,
        lag: g.lag ?? null,
        pending: g.pending ?? null,
      });
    }
  };
  addGroups('alert-commands', null, value(2));
  let total: number | null = 0;
  let i = 4;
  for (const p of parts) {
    const added = parseStreamInfo(value(i++)).entriesAdded;
    // A partition whose stream does not exist yet has added nothing; one Redis cannot tell (before 7.0).
    if (added !== undefined && total !== null) total += added;
    else if (replies[i - 1]?.ok) total = null;
    for (const [name] of WATCHED) addGroups(name, p, value(i++));
  }
  const rate =
    total === null ? { samplesPerSecond: null, overSeconds: null } : ingest.observe(now, total);
  const beats = value(0);
  const deadLetters = value(1);
  return {
    ts: now,
    partitions: opts.partitions,
    downAfterMs: opts.downAfterMs,
    services: serviceViews(
      parseHeartbeats(hashReply(beats)),
      now,
      opts.downAfterMs,
      parseSupervisorRestarts(hashReply(value(3))),
    ),
    lag,
    ingest: { ...rate, total },
    deadLetters: typeof deadLetters === 'number' ? deadLetters : null,
    pipelineErrorsLastMinute: errors,
    errorRate: errorRates(opts.system()),
    emergencyQueue: queue,
  };
}

/** HGETALL through `call` answers a flat array; through ioredis's transformer, an object. */
function hashReply(reply: unknown): Record<string, string> {
  if (Array.isArray(reply)) {
    const out: Record<string, string> = {};
    for (let j = 0; j + 1 < reply.length; j += 2) out[String(reply[j])] = String(reply[j + 1]);
    return out;
  }
  return reply && typeof reply === 'object' ? (reply as Record<string, string>) : {};
}
