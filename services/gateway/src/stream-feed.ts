import {
  AlertEvent,
  decodeEntry,
  Incident,
  ScoreUpdate,
  SystemSample,
  type Keys,
  type Logger,
  type RawEntry,
  type ServerFrame,
  type Topic,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { GatewayState } from './gateway-state.js';

export type Publish = (topic: Topic, frame: ServerFrame) => void;

/** Load the latest state from the hashes the scorer, collector and alerter keep. */
export async function loadState(
  redis: Redis,
  keys: Keys,
  state: GatewayState,
  log: Logger,
): Promise<void> {
  const [scores, system, incidents] = await Promise.all([
    redis.hgetall(keys.latestScores),
    redis.hgetall(keys.latestSystem),
    redis.hgetall(keys.incidents),
  ]);
  const each = <T>(
    raw: Record<string, string>,
    parse: (j: unknown) => T | undefined,
    apply: (v: T) => void,
  ): void => {
    for (const [field, json] of Object.entries(raw)) {
      let v: T | undefined;
      try {
        v = parse(JSON.parse(json));
      } catch {
        v = undefined;
      }
      if (v === undefined) log.warn({ field }, 'skipping unreadable state record');
      else apply(v);
    }
  };
  each(
    scores,
    (j) => ScoreUpdate.safeParse(j).data,
    (v) => state.applyScore(v),
  );
  each(
    system,
    (j) => SystemSample.safeParse(j).data,
    (v) => state.applySystem(v),
  );
  each(
    incidents,
    (j) => Incident.safeParse(j).data?.firing,
    (v) => state.applyAlert(v),
  );
}

/**
 * Turn stream entries into state updates and frames. Malformed entries are
 * counted and skipped here: the gateway reads without a group, so the
 * dead-lettering belongs to the consumers that own the streams.
 */
export function makeEntryHandler(
  keys: Keys,
  state: GatewayState,
  publish: Publish,
  log: Logger,
  onBad: () => void,
) {
  return (stream: string, entries: RawEntry[]): void => {
    for (const [pos, fields] of entries) {
      if (stream === keys.scores) {
        const d = decodeEntry(fields, ScoreUpdate);
        if (!d.ok) {
          bad(pos, d.reason);
          continue;
        }
        state.applyScore(d.value);
        publish(`strategy:${d.value.strategy}`, { type: 'score', pos, data: d.value });
      } else if (stream === keys.systemSamples) {
        const d = decodeEntry(fields, SystemSample);
        if (!d.ok) {
          bad(pos, d.reason);
          continue;
        }
        state.applySystem(d.value);
        publish('system', { type: 'system', pos, data: d.value });
      } else if (stream === keys.alerts) {
        const d = decodeEntry(fields, AlertEvent);
        if (!d.ok) {
          bad(pos, d.reason);
          continue;
        }
        state.applyAlert(d.value);
        publish('alerts', { type: 'alert', pos, data: d.value });
      }
    }
  };
  function bad(pos: string, reason: string): void {
    onBad();
    log.warn({ pos, reason }, 'skipping malformed entry');
  }
}
