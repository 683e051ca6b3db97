import {
  abortableSleep,
  AlertEvent,
  AuditEvent,
  DATA_FIELD,
  HISTORIAN_GROUP,
  ScoreUpdate,
  StrategySample,
  SystemSample,
  type Keys,
  type Logger,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { RowCounts } from './history-writer.js';
import { decodeItem } from './decode-item.js';
import { sampleRow } from './sample-row.js';
import { batchSize, emptyBatch, entryAt, type EntryBatch, type StreamItem } from './rows.js';

/**
 * The historian's loop: every partition's strategy-samples, scores,
 * system-samples and alerts streams, and the global audit stream, read by
 * the consumer group `historian` (each replica one consumer), written to
 * PostgreSQL, and acknowledged only once the rows are committed. A crash or
 * a PostgreSQL outage leaves the entries pending: this consumer reads its own
 * pending again (cursor '0') and a replica that died has its pending claimed
 * (XAUTOCLAIM) by a live one. Redelivery is harmless: rows are unique by
 * (partition, entry id).
 */

/** The streams' kinds (sampleRows holds strategy samples too, decoded the fast way). */
type Kind = Exclude<keyof EntryBatch, 'sampleRows'>;

interface Source {
  key: string;
  part: number;
  kind: Kind;
  /** '0': this consumer's pending first; '>' once they are drained. */
  cursor: '0' | '>';
}

const SCHEMAS: Record<Kind, z.ZodType> = {
  strategySamples: StrategySample,
  scores: ScoreUpdate,
  system: SystemSample,
  alerts: AlertEvent,
  audit: AuditEvent,
};

/** A round that was not full is followed by the next this many poll intervals after it started. */
const GATHER_POLLS = 5;

/** The audit stream is global: it has no partition. */
export const AUDIT_PART = -1;

/** Sources grouped so one XREADGROUP reads each group: a partition's keys share a Cluster slot. */
export function sourceGroups(keys: Keys, partitions: number): Source[][] {
  const groups: Source[][] = [];
  for (let p = 0; p < partitions; p++) {
    const pk = keys.partition(p);
    groups.push([
      { key: pk.strategySamples, part: p, kind: 'strategySamples', cursor: '0' },
      { key: pk.scores, part: p, kind: 'scores', cursor: '0' },
      { key: pk.systemSamples, part: p, kind: 'system', cursor: '0' },
      { key: pk.alerts, part: p, kind: 'alerts', cursor: '0' },
    ]);
  }
  groups.push([{ key: keys.audit, part: AUDIT_PART, kind: 'audit', cursor: '0' }]);
  return groups;
}

export interface CopierOptions {
  redis: Redis;
  keys: Keys;
  partitions: number;
  consumer: string;
  /** Most entries per stream per round. */
  count: number;
  /** The wait when there was nothing to read. */
  pollMs: number;
  /** The least time from one round's read to the next when it was not full; default 5 polls. */
  gatherMs?: number;
  claimIdleMs: number;
  write: (batch: EntryBatch) => Promise<RowCounts>;
  signal: AbortSignal;
  log: Logger;
  onWritten?: (counts: RowCounts, entries: number, seconds: number) => void;
  onMalformed?: (stream: string) => void;
  onError?: (err: unknown) => void;
  /** Every round that committed (or found nothing): health and tests. */
  onRound?: (entries: number) => void;
}

type Reply = [stream: string, entries: [string, string[] | null][]][] | null;

export async function runStreamCopier(opts: CopierOptions): Promise<void> {
  const { redis, log, signal } = opts;
  const groups = sourceGroups(opts.keys, opts.partitions);
  const all = groups.flat();
  let groupsReady = false;
  let lastClaim = 0;
  let backoff = 0;
  const gatherMs = opts.gatherMs ?? opts.pollMs * GATHER_POLLS;
  // One round is written while the next is read and decoded: the historian's
  // CPU and PostgreSQL's overlap instead of taking turns. Never more than one
  // in flight, and none while this consumer reads its own pending (cursor
  // '0'), which would hand back the entries being written.
  let inflight: Promise<void> | undefined;
  const settle = async (): Promise<void> => {
    const prev = inflight;
    inflight = undefined;
    await prev;
  };
  // A reply that straddles a reconnect may have lost entries into our
  // pending list: read our pending again from '0' (as group-consumer.ts does).
  let closes = 0;
  const onClose = (): void => void closes++;
  redis.on('close', onClose);
  try {
    while (!signal.aborted) {
      try {
        if (!groupsReady) {
          await Promise.all(all.map((s) => ensureGroup(redis, s.key)));
          groupsReady = true;
        }
        if (Date.now() - lastClaim >= opts.claimIdleMs) {
          await settle();
          lastClaim = Date.now();
          await claimAbandoned(opts, all);
        }
        if (all.some((s) => s.cursor === '0')) await settle();
        const closesBefore = closes;
        const readAt = Date.now();
        const read = await Promise.all(groups.map((g) => readGroup(opts, g)));
        if (closes !== closesBefore) {
          for (const s of all) s.cursor = '0';
          continue;
        }
        const round = decodeRound(opts, groups, read);
        await settle(); // the previous round's failure surfaces here, before this one is written
        backoff = 0;
        if (round.handled === 0) {
          opts.onRound?.(0);
          await abortableSleep(opts.pollMs, signal);
          continue;
        }
        const writing = commitRound(opts, round);
        writing.catch(() => undefined); // handled when settled; not an unhandled rejection meanwhile
        inflight = writing;
        // Caught up (no stream gave a full count): let entries gather before
        // the next read. Every round merges each active strategy's rollup
        // rows, a fixed cost per round that many small rounds multiply
        // (docs/history.md, "Throughput"); behind, rounds follow at once.
        const gather = gatherMs - (Date.now() - readAt);
        if (!round.full && gather > 0) await abortableSleep(gather, signal);
      } catch (err) {
        if (signal.aborted) break;
        const message = (err as Error).message ?? String(err);
        if (message.includes('NOGROUP')) groupsReady = false; // Redis lost its data: recreate
        for (const s of all) s.cursor = '0'; // what was in flight is still pending: read it again
        backoff = Math.min(5000, backoff ? backoff * 2 : 200);
        log.warn({ err, backoffMs: backoff }, 'historian round failed, retrying');
        opts.onError?.(err);
        await abortableSleep(backoff, signal);
      }
    }
  } finally {
    // Shutting down: the round being written commits and is acknowledged, or stays pending.
    await settle().catch(() => undefined);
    redis.off('close', onClose);
  }
}

async function ensureGroup(redis: Redis, key: string): Promise<void> {
  try {
    // '0': a new historian copies everything the streams still hold.
    await redis.xgroup('CREATE', key, HISTORIAN_GROUP, '0', 'MKSTREAM');
  } catch (err) {
    if (!(err as Error).message.includes('BUSYGROUP')) throw err;
  }
}

function readGroup(opts: CopierOptions, group: Source[]): Promise<Reply> {
  return opts.redis.xreadgroup(
    'GROUP',
    HISTORIAN_GROUP,
    opts.consumer,
    'COUNT',
    opts.count,
    'STREAMS',
    ...group.map((s) => s.key),
    ...group.map((s) => s.cursor),
  ) as Promise<Reply>;
}

/** One round's entries, decoded, with the ids to acknowledge once they are written. */
interface Round {
  batch: EntryBatch;
  acks: Map<string, string[]>;
  handled: number;
  /** Some stream gave `count` entries: more are probably waiting. */
  full: boolean;
}

/** Decode a round's replies (moving a source from its pending to new entries once drained). */
function decodeRound(opts: CopierOptions, groups: Source[][], replies: Reply[]): Round {
  const batch = emptyBatch();
  const acks = new Map<string, string[]>();
  let handled = 0;
  let full = false;
  groups.forEach((group, gi) => {
    const reply = replies[gi] ?? [];
    for (const source of group) {
      const entries = reply.find(([k]) => k === source.key)?.[1] ?? [];
      if (source.cursor === '0' && entries.length === 0) source.cursor = '>';
      if (entries.length === 0) continue;
      if (entries.length >= opts.count) full = true;
      const ids: string[] = [];
      const items = batch[source.kind] as StreamItem<unknown>[];
      const samples = source.kind === 'strategySamples';
      for (const [id, fields] of entries) {
        ids.push(id);
        handled++;
        if (!fields) continue; // trimmed while pending: nothing left to copy
        if (samples && fields.length === 2 && fields[0] === DATA_FIELD) {
          // The usual sample: straight to its COPY line (sample-row.ts), no parsed object.
          const line = sampleRow(fields[1]!, source.part, id);
          if (line !== undefined) {
            batch.sampleRows.push({ at: entryAt(id), line });
            continue;
          }
        }
        const d = decodeItem(fields, SCHEMAS[source.kind]);
        if (!d.ok) {
          // The stream's working consumer (scorer, alerter) dead-letters it; here it is only skipped.
          opts.log.debug({ stream: source.key, id, reason: d.reason }, 'skipping malformed entry');
          opts.onMalformed?.(source.key);
          continue;
        }
        const item: StreamItem<unknown> = { part: source.part, id, value: d.value };
        if (d.raw !== undefined) item.raw = d.raw;
        items.push(item);
      }
      acks.set(source.key, ids);
    }
  });
  return { batch, acks, handled, full };
}

/** Write, then acknowledge: committed rows first, then XACK. */
async function commitRound(opts: CopierOptions, round: Round): Promise<void> {
  const started = process.hrtime.bigint();
  const counts = batchSize(round.batch) > 0 ? await opts.write(round.batch) : {};
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Committed: now, and only now, the entries may leave the pending list.
  await Promise.all(
    [...round.acks].map(([key, ids]) => opts.redis.xack(key, HISTORIAN_GROUP, ...ids)),
  );
  opts.onWritten?.(counts, round.handled, seconds);
  opts.onRound?.(round.handled);
}

/** Take over entries another historian left pending longer than claimIdleMs. */
async function claimAbandoned(opts: CopierOptions, sources: Source[]): Promise<void> {
  for (const s of sources) {
    let start = '0-0';
    let claimed = 0;
    for (let i = 0; i < 100; i++) {
      const [next, ids] = (await opts.redis.xautoclaim(
        s.key,
        HISTORIAN_GROUP,
        opts.consumer,
        opts.claimIdleMs,
        start,
        'COUNT',
        1000,
        'JUSTID',
      )) as [string, string[]];
      claimed += ids.length;
      if (next === '0-0') break;
      start = next;
    }
    if (claimed > 0) {
      s.cursor = '0'; // claimed entries are now our pending: read them
      opts.log.info({ stream: s.key, claimed }, 'claimed entries of a dead historian');
    }
  }
}

/** Entries not yet copied, per stream: the group's lag plus its pending (XINFO GROUPS). */
export async function copierLag(
  redis: Redis,
  keys: Keys,
  partitions: number,
): Promise<Record<Kind, number>> {
  const lag: Record<Kind, number> = {
    strategySamples: 0,
    scores: 0,
    system: 0,
    alerts: 0,
    audit: 0,
  };
  const sources = sourceGroups(keys, partitions).flat();
  await Promise.all(
    sources.map(async (s) => {
      const groups = (await redis.xinfo('GROUPS', s.key).catch(() => [])) as unknown[][];
      for (const g of groups) {
        const f = new Map<string, unknown>();
        for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
        if (f.get('name') !== HISTORIAN_GROUP) continue;
        lag[s.kind] += Number(f.get('lag') ?? 0) + Number(f.get('pending') ?? 0);
      }
    }),
  );
  return lag;
}
