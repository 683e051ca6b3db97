import {
  AlertEvent,
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

/** Load the latest state from the hashes the scorer, collector and alerter keep. */
export async function loadState(
  redis: Redis,
  keys: Keys,
  state: GatewayState,
  log: Logger,
): Promise<void> {
  const bad = (field: string): void => log.warn({ field }, 'skipping unreadable state record');
  const [scores, system, incidents] = await Promise.all([
    readJsonHash(redis, keys.latestScores, ScoreUpdate, bad),
    readJsonHash(redis, keys.latestSystem, SystemSample, bad),
    readJsonHash(redis, keys.incidents, Incident, bad),
  ]);
  for (const u of scores.values()) state.applyScore(u);
  for (const s of system.values()) state.applySystem(s);
  for (const i of incidents.values()) state.applyAlert(i.firing);
}

/** One frame to send to every subscriber of `topic`. */
export interface Broadcast {
  topic: Topic;
  stream: ResumeStream;
  pos: string;
  /** Conflation key for metric frames (latest wins); null for alerts, never dropped. */
  key: string | null;
  frame: ServerFrame;
}

export type Decoded = { ok: true; b: Broadcast } | { ok: false; reason: string };

/** Which resumable stream a Redis key is, if any. */
export function resumeStreamOf(keys: Keys, stream: string): ResumeStream | undefined {
  if (stream === keys.scores) return 'scores';
  if (stream === keys.systemSamples) return 'system';
  if (stream === keys.alerts) return 'alerts';
  return undefined;
}

/** Decode one entry of a resumable stream into the frame clients get. */
export function decodeBroadcast(s: ResumeStream, pos: string, fields: readonly string[]): Decoded {
  if (s === 'scores') {
    const d = decodeEntry(fields, ScoreUpdate);
    if (!d.ok) return d;
    const topic = `strategy:${d.value.strategy}` as const;
    return {
      ok: true,
      b: { topic, stream: s, pos, key: topic, frame: { type: 'score', pos, data: d.value } },
    };
  }
  if (s === 'system') {
    const d = decodeEntry(fields, SystemSample);
    if (!d.ok) return d;
    return {
      ok: true,
      b: {
        topic: 'system',
        stream: s,
        pos,
        key: `system:${d.value.host}`,
        frame: { type: 'system', pos, data: d.value },
      },
    };
  }
  const d = decodeEntry(fields, AlertEvent);
  if (!d.ok) return d;
  return {
    ok: true,
    b: { topic: 'alerts', stream: s, pos, key: null, frame: { type: 'alert', pos, data: d.value } },
  };
}

/**
 * Turn one batch of stream entries (one XREAD reply: a tick) into state
 * updates and broadcasts. Metric frames are coalesced per tick: within a
 * batch only the latest update per strategy / host is broadcast (in stream
 * order of that latest); alerts all go out. Malformed entries are counted
 * and skipped here: the gateway reads without a group, so dead-lettering
 * belongs to the consumers that own the streams.
 */
export function makeEntryHandler(
  keys: Keys,
  state: GatewayState,
  publish: (batch: Broadcast[]) => void,
  log: Logger,
  onBad: () => void,
) {
  return (stream: string, entries: RawEntry[]): void => {
    const s = resumeStreamOf(keys, stream);
    if (!s) return;
    const latest = new Map<string, Broadcast>();
    const batch: Broadcast[] = [];
    for (const [pos, fields] of entries) {
      const d = decodeBroadcast(s, pos, fields);
      state.advance(s, pos);
      if (!d.ok) {
        onBad();
        log.warn({ pos, reason: d.reason }, 'skipping malformed entry');
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
