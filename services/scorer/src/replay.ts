import {
  decodeEntry,
  readJsonHash,
  ScoreUpdate,
  StrategySample,
  type Keys,
  type Logger,
  type RawEntry,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { ScorerCore } from './scorer-core.js';
import { compareStreamIds } from './stream-id.js';

/**
 * Rebuild the in-memory windows after a restart: the latest score update per
 * strategy says which sample was applied last; every retained sample up to
 * it goes back into its window. Samples after it are still pending in the
 * group (or new) and are applied, and scored, by the consumer loop.
 */
export async function replayWindows(
  redis: Redis,
  keys: Keys,
  core: ScorerCore,
  log: Logger,
): Promise<number> {
  const latest = await readJsonHash(redis, keys.latestScores, ScoreUpdate, (strategy) =>
    log.warn({ strategy }, 'ignoring unreadable latest score'),
  );
  const applied = new Map([...latest].map(([strategy, u]) => [strategy, u.sampleEntryId]));
  if (applied.size === 0) return 0;
  const until = [...applied.values()].sort(compareStreamIds).at(-1) ?? '0-0';
  let from = '-';
  let restored = 0;
  for (;;) {
    const page = (await redis.xrange(
      keys.strategySamples,
      from,
      until,
      'COUNT',
      5000,
    )) as RawEntry[];
    for (const [id, fields] of page) {
      const d = decodeEntry(fields, StrategySample);
      if (!d.ok) continue; // the consumer loop dead-letters it
      const mark = applied.get(d.value.strategy);
      if (mark !== undefined && compareStreamIds(id, mark) <= 0) {
        core.restore(id, d.value);
        restored++;
      }
    }
    const last = page.at(-1);
    if (!last || page.length < 5000) break;
    from = `(${last[0]}`;
  }
  log.info(
    { strategies: applied.size, samples: restored },
    'restored rolling windows from the sample stream',
  );
  return restored;
}
