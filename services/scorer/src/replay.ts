import {
  decodeEntry,
  readJsonHash,
  ScoreUpdate,
  StrategySample,
  type Logger,
  type PartitionKeys,
  type RawEntry,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { ScorerCore } from './scorer-core.js';

const PAGE = 5000;

/**
 * Rebuild a partition's windows when its scorer takes it over (a start, a
 * restart, a rebalance): every sample up to the committed position
 * (`through`, the scorer group's last-delivered-id) was applied, so the
 * newest `window` of them per strategy are the windows. Read backwards from
 * `through` and stop once every strategy with a latest score has the
 * count it showed: a takeover reads what the windows hold, not the whole
 * stream. Samples after `through` are the reader's to apply and score.
 */
export async function replayWindows(
  redis: Redis,
  pk: PartitionKeys,
  through: string,
  window: number,
  core: ScorerCore,
  log: Logger,
): Promise<number> {
  if (through === '0-0') return 0;
  const latest = await readJsonHash(redis, pk.latestScores, ScoreUpdate, (strategy) =>
    log.warn({ strategy }, 'ignoring unreadable latest score'),
  );
  const need = new Map([...latest].map(([s, u]) => [s, Math.min(u.count, window)]));
  let unmet = [...need.values()].filter((n) => n > 0).length;
  const taken = new Map<string, { id: string; sample: StrategySample }[]>();
  let end = through;
  for (;;) {
    const page = (await redis.xrevrange(pk.strategySamples, end, '-', 'COUNT', PAGE)) as RawEntry[];
    for (const [id, fields] of page) {
      const d = decodeEntry(fields, StrategySample);
      if (!d.ok) continue; // dead-lettered when it was read
      const s = d.value.strategy;
      const list = taken.get(s) ?? [];
      if (list.length >= window) continue;
      if (list.length === 0) taken.set(s, list);
      list.push({ id, sample: d.value });
      if (list.length === need.get(s)) unmet--;
    }
    const last = page.at(-1);
    if (!last || page.length < PAGE || unmet <= 0) break;
    end = `(${last[0]}`;
  }
  let restored = 0;
  for (const list of taken.values()) {
    for (let i = list.length - 1; i >= 0; i--) {
      core.restore(list[i]!.id, list[i]!.sample);
      restored++;
    }
  }
  log.debug(
    { partition: pk.partition, strategies: taken.size, samples: restored, through },
    'restored rolling windows from the sample stream',
  );
  return restored;
}
