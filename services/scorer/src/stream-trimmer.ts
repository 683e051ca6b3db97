import { randomInt } from 'node:crypto';
import { abortableSleep, retentionTrimIntervalMs, type Keys, type Logger } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
// One XINFO parser for the whole project: the collector's (as the gateway's pipeline routes use it).
import { isNoSuchKey, parseGroups } from '../../collector/src/xinfo.js';
import {
  heldBackMs,
  parseStreamId,
  retentionTrimPoint,
  type GroupHold,
  type TrimPoint,
} from './stream-retention.js';

/** The streams trimmed by age, by the label they carry on /metrics. */
export type RetainedKind = 'strategy-samples' | 'system-samples' | 'scores' | 'alert-commands';

/**
 * For a partition's strategy samples: the stream time (ms) of the oldest
 * sample its scorer's windows hold (ScorerCore.oldestHeldEntryMs), null
 * when they hold none, 'restoring' while the partition's replay runs (the
 * stream is then not trimmed at all: the replay is reading it).
 */
export type WindowHold = () => number | null | 'restoring';

export interface RetainedStream {
  key: string;
  kind: RetainedKind;
  /** Strategy samples: what the windows hold, kept whatever its age. */
  windowHold?: WindowHold;
}

/** The pseudo-group a window hold is reported as (logs, heldBy). */
export const WINDOWS_HOLD = 'scorer windows';

/**
 * The streams a scorer replica trims: the data streams of the partitions it
 * owns, and the global alert-commands stream when it owns partition 0 (one
 * owner, as for the alerter's latest-system sweep). Alert events, the audit
 * stream and the dead letters are kept by length only: they are the record
 * GET /api/alerts and /api/audit read, a few entries a minute.
 */
export function retainedStreams(
  keys: Keys,
  owned: readonly number[],
  windowHold: (partition: number) => WindowHold,
): RetainedStream[] {
  const out: RetainedStream[] = [];
  for (const p of owned) {
    const pk = keys.partition(p);
    out.push(
      { key: pk.strategySamples, kind: 'strategy-samples', windowHold: windowHold(p) },
      { key: pk.systemSamples, kind: 'system-samples' },
      { key: pk.scores, kind: 'scores' },
    );
  }
  if (owned.includes(0)) out.push({ key: keys.alertCommands, kind: 'alert-commands' });
  return out;
}

/** Redis's clock (TIME), which stamps the stream ids: a host clock off by minutes trims nothing wrong. */
export async function redisNowMs(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** XTRIM ~ removes at most 100 nodes' entries per call by default: a backlog takes several. */
const MAX_ROUNDS = 50;

/**
 * One stream trimmed to the retention (retentionTrimPoint): XINFO GROUPS,
 * then XPENDING for each group with entries pending, then XTRIM MINID ~,
 * each a single-key command (legal on a Cluster). Read in that order, a
 * group's position can only have moved past what was read, so the point
 * never removes an entry a group still needs. Undefined when the stream
 * does not exist.
 */
export async function trimStream(
  redis: Redis,
  key: string,
  nowMs: number,
  retentionMs: number,
  windowHold?: WindowHold,
): Promise<{ trimmed: number; point: TrimPoint; oldestEntryMs: number | undefined } | undefined> {
  // Read before the groups: a window's oldest sample only moves forward, so an early read is the safe one.
  const held = windowHold?.();
  if (held === 'restoring') return undefined;
  let reply: unknown;
  try {
    reply = await redis.xinfo('GROUPS', key);
  } catch (err) {
    if (isNoSuchKey(err)) return undefined;
    throw err;
  }
  const holds: GroupHold[] = [];
  for (const g of parseGroups(reply)) {
    let oldestPendingId: string | undefined;
    if (g.pending === undefined || g.pending > 0) {
      const summary = (await redis.xpending(key, g.name)) as [number, string | null, ...unknown[]];
      oldestPendingId = summary[1] ?? undefined;
    }
    holds.push({ group: g.name, lastDeliveredId: g.lastDeliveredId, oldestPendingId });
  }
  if (typeof held === 'number') {
    // Kept as if pending from the first entry of that millisecond: a restart's replay reads back to it.
    holds.push({ group: WINDOWS_HOLD, lastDeliveredId: '0-0', oldestPendingId: `${held}-0` });
  }
  const point = retentionTrimPoint(nowMs, retentionMs, holds);
  let trimmed = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const n = Number(await redis.xtrim(key, 'MINID', '~', point.minId));
    trimmed += n;
    if (n === 0) break;
  }
  // Only a held stream needs its first entry (heldBackMs): one XRANGE, single-key.
  let oldestEntryMs: number | undefined;
  if (point.heldBy !== undefined) {
    const first = await redis.xrange(key, '-', '+', 'COUNT', 1);
    oldestEntryMs = first[0] ? Number(parseStreamId(first[0][0])[0]) : undefined;
  }
  return { trimmed, point, oldestEntryMs };
}

export interface StreamTrimmerOptions {
  redis: Redis;
  /** STREAM_RETENTION in ms (> 0). */
  retentionMs: number;
  /** The streams to trim, read at every pass (the owned partitions change). */
  streams: () => readonly RetainedStream[];
  signal: AbortSignal;
  log: Logger;
  registry?: Registry;
  /** Default retentionTrimIntervalMs(retentionMs). */
  intervalMs?: number;
  /** A group holding a stream back this far past the retention is logged (default: the retention). */
  warnHeldBackMs?: number;
}

/** Held-back warnings per stream at most this often. */
const WARN_EVERY_MS = 600_000;

/**
 * Trim the streams every interval (jittered ±20 %, the first pass at a
 * random point of the first interval, so replicas started together do not
 * trim in step) until `signal` aborts. Never throws: a stream that fails is
 * logged and retried at the next pass.
 */
export async function runStreamTrimmer(opts: StreamTrimmerOptions): Promise<void> {
  const { redis, retentionMs, log, signal } = opts;
  const intervalMs = opts.intervalMs ?? retentionTrimIntervalMs(retentionMs);
  const warnAfter = opts.warnHeldBackMs ?? retentionMs;
  const registers = opts.registry ? [opts.registry] : [];
  const trimmed = new Counter({
    name: 'quantmon_stream_trimmed_entries_total',
    help: 'Stream entries removed for being older than STREAM_RETENTION (and processed by every consumer group)',
    labelNames: ['stream'],
    registers,
  });
  const heldBack = new Gauge({
    name: 'quantmon_stream_retention_held_back_seconds',
    help: 'At the last trim, how far behind the STREAM_RETENTION cutoff a consumer group holds a stream (worst of the owned partitions; 0: age decides)',
    labelNames: ['stream'],
    registers,
  });
  const warned = new Map<string, number>();
  await abortableSleep(randomInt(0, Math.max(1, Math.round(intervalMs))), signal);
  while (!signal.aborted) {
    const streams = opts.streams();
    const worst = new Map<RetainedKind, number>();
    try {
      const now = await redisNowMs(redis);
      for (const s of streams) {
        if (signal.aborted) break;
        try {
          const r = await trimStream(redis, s.key, now, retentionMs, s.windowHold);
          if (!r) continue;
          if (r.trimmed > 0) trimmed.inc({ stream: s.kind }, r.trimmed);
          const behind = heldBackMs(now, retentionMs, r.point, r.oldestEntryMs);
          worst.set(s.kind, Math.max(worst.get(s.kind) ?? 0, behind));
          // A window hold is the design (a slow strategy's window), not a fault: only groups are warned of.
          const stuckGroup = r.point.heldBy !== WINDOWS_HOLD;
          if (stuckGroup && behind > warnAfter && now - (warned.get(s.key) ?? 0) >= WARN_EVERY_MS) {
            warned.set(s.key, now);
            log.warn(
              { stream: s.key, group: r.point.heldBy, heldBackS: Math.round(behind / 1000) },
              'a consumer group holds the stream past its retention (a consumer down? the length cap still bounds it)',
            );
          }
        } catch (err) {
          log.warn({ err, stream: s.key }, 'stream trim failed; retried at the next pass');
        }
      }
    } catch (err) {
      log.warn({ err }, 'stream trim pass failed; retried at the next pass');
    }
    for (const kind of ['strategy-samples', 'system-samples', 'scores', 'alert-commands'] as const)
      heldBack.set({ stream: kind }, (worst.get(kind) ?? 0) / 1000);
    await abortableSleep(
      Math.round(intervalMs * (0.8 + 0.4 * (randomInt(0, 1_000_000) / 1_000_000))),
      signal,
    );
  }
}
