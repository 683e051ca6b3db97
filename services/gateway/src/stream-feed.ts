import {
  AlertEvent,
  allPartitions,
  DATA_FIELD,
  decodeEntry,
  Incident,
  readJsonHash,
  ScoreUpdate,
  SystemSample,
  type Keys,
  type Logger,
  type RawEntry,
  type ResumeStream,
  type ServerFrame,
  type Topic,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { GatewayState } from './gateway-state.js';
import { textBeforeSpan } from './frame-encoding.js';
import type { StreamIndex } from './topics.js';

/**
 * Load the latest state from the hashes the scorer, collector and alerter
 * keep: latest scores and incidents of every partition, latest system
 * samples (global). One key per command, so it runs as is on a Cluster.
 */
export async function loadState(
  redis: Redis,
  keys: Keys,
  state: GatewayState,
  log: Logger,
): Promise<void> {
  const bad = (field: string): void => log.warn({ field }, 'skipping unreadable state record');
  const parts = allPartitions(state.partitions).map((p) => keys.partition(p));
  const [system, scores, incidents] = await Promise.all([
    readJsonHash(redis, keys.latestSystem, SystemSample, bad),
    Promise.all(parts.map((pk) => readJsonHash(redis, pk.latestScores, ScoreUpdate, bad))),
    Promise.all(parts.map((pk) => readJsonHash(redis, pk.incidents, Incident, bad))),
  ]);
  for (const m of scores) for (const u of m.values()) state.applyScore(u);
  for (const s of system.values()) state.applySystem(s);
  for (const m of incidents) for (const i of m.values()) state.applyAlert(i.firing);
}

/** One frame to send to every subscriber of `topic`. */
export interface Broadcast {
  topic: Topic;
  stream: ResumeStream;
  /** The partition whose stream held the entry. */
  part: number;
  pos: string;
  /** Conflation key for metric frames (latest wins); null for alerts, never dropped. */
  key: string | null;
  frame: ServerFrame;
  /** The entry's message JSON as stored: the frame's `data`, forwarded without re-serialising. */
  raw?: string;
  /** Score frames: the strategy's catalogue tags, for `tag:` topics. */
  tags?: Readonly<Record<string, string>>;
}

export type Decoded = { ok: true; b: Broadcast } | { ok: false; reason: string };

/**
 * Decode one entry of a resumable stream (of partition `part`) into the
 * frame clients get. `withSpan` false (no client takes spans): a score
 * update is decoded and forwarded without its span (`decodeWithoutSpan`).
 */
export function decodeBroadcast(
  s: ResumeStream,
  part: number,
  pos: string,
  fields: readonly string[],
  withSpan = true,
): Decoded {
  if (!withSpan && s === 'scores') {
    const lean = decodeWithoutSpan(part, pos, fields);
    if (lean) return lean;
  }
  const d = decodeFrame(s, part, pos, fields);
  if (d.ok && fields.length === 2 && fields[0] === DATA_FIELD) d.b.raw = fields[1]!;
  return d;
}

/**
 * Undefined where the entry is not a score update with a trailing span
 * whose text before it parses and checks: the caller decodes it whole,
 * which also names what is wrong with a bad one.
 */
function decodeWithoutSpan(
  part: number,
  pos: string,
  fields: readonly string[],
): Decoded | undefined {
  if (fields.length !== 2 || fields[0] !== DATA_FIELD) return undefined;
  const head = textBeforeSpan(fields[1]!);
  if (head === undefined) return undefined;
  const d = decodeEntry([DATA_FIELD, head], ScoreUpdate);
  if (!d.ok || d.value.span !== undefined) return undefined;
  const b = scoreBroadcast(part, pos, d.value);
  b.raw = head;
  return { ok: true, b };
}

function scoreBroadcast(part: number, pos: string, u: ScoreUpdate): Broadcast {
  const topic = `strategy:${u.strategy}` as const;
  return {
    topic,
    stream: 'scores',
    part,
    pos,
    key: topic,
    frame: { type: 'score', pos, part, data: u },
    ...(u.tags ? { tags: u.tags } : {}),
  };
}

function decodeFrame(
  s: ResumeStream,
  part: number,
  pos: string,
  fields: readonly string[],
): Decoded {
  if (s === 'scores') {
    const d = decodeEntry(fields, ScoreUpdate);
    return d.ok ? { ok: true, b: scoreBroadcast(part, pos, d.value) } : d;
  }
  if (s === 'system') {
    const d = decodeEntry(fields, SystemSample);
    if (!d.ok) return d;
    return {
      ok: true,
      b: {
        topic: 'system',
        stream: s,
        part,
        pos,
        key: `system:${d.value.host}`,
        frame: { type: 'system', pos, part, data: d.value },
      },
    };
  }
  const d = decodeEntry(fields, AlertEvent);
  if (!d.ok) return d;
  return {
    ok: true,
    b: {
      topic: 'alerts',
      stream: s,
      part,
      pos,
      key: null,
      frame: { type: 'alert', pos, part, data: d.value },
    },
  };
}

/**
 * Turn one batch of stream entries (one stream of one XREAD reply: a tick)
 * into state updates and broadcasts. While no client takes spans, score
 * updates are decoded, kept and broadcast without theirs. Metric frames are coalesced per tick:
 * within a batch only the latest update per strategy / host is broadcast
 * (in stream order of that latest); alerts all go out. Malformed entries
 * are counted and skipped here: the gateway reads without a group, so
 * dead-lettering belongs to the consumers that own the streams.
 */
export function makeEntryHandler(
  index: StreamIndex,
  state: GatewayState,
  publish: (batch: Broadcast[]) => void,
  log: Logger,
  onBad: () => void,
  /** Whether any client takes score updates with their span (else they are decoded without). */
  takesSpans: () => boolean = () => true,
) {
  return (stream: string, entries: RawEntry[]): void => {
    const at = index.get(stream);
    if (!at) return;
    const { stream: s, part } = at;
    const withSpan = takesSpans();
    const latest = new Map<string, Broadcast>();
    const batch: Broadcast[] = [];
    for (const [pos, fields] of entries) {
      const d = decodeBroadcast(s, part, pos, fields, withSpan);
      state.advance(s, part, pos);
      if (!d.ok) {
        onBad();
        log.warn({ pos, part, stream: s, reason: d.reason }, 'skipping malformed entry');
        continue;
      }
      const f = d.b.frame;
      if (f.type === 'score') state.applyScore(f.data);
      else if (f.type === 'system') state.applySystem(f.data);
      else if (f.type === 'alert') state.applyAlert(f.data);
      if (d.b.key === null) batch.push(d.b);
      else {
        latest.delete(d.b.key);
        latest.set(d.b.key, d.b);
      }
    }
    publish(batch.length === 0 ? [...latest.values()] : [...batch, ...latest.values()]);
  };
}
