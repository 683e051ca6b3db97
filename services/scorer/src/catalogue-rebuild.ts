import type { Catalogue, Lease, LiveCatalogue, Logger, PartitionKeys } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { rebuildStrategies } from './replay.js';
import type { ScorerCore } from './scorer-core.js';

export interface CatalogueRebuildOptions {
  live: LiveCatalogue;
  redis: Redis;
  pk: PartitionKeys;
  lease: Lease;
  core: ScorerCore;
  /** The term's turns: a rebuild replays up to each strategy's last applied sample, so no batch may run in between. */
  serial: <T>(step: () => Promise<T>) => Promise<T>;
  log: Logger;
}

/**
 * Keep a term's windows on the catalogue in force: on every change (and
 * once now, for a change made while the term was replaying), take the new
 * catalogue in a turn of its own and rebuild, by replay, the strategies
 * whose parameters or windows changed. A rebuild that fails gives the
 * partition up: half-rebuilt windows are never scored, and the next term
 * rebuilds everything. Returns the unsubscribe function.
 */
export function followCatalogue(opts: CatalogueRebuildOptions): () => void {
  const { live, redis, pk, lease, core, serial, log } = opts;
  const apply = (next: Catalogue): void => {
    serial(async () => {
      if (lease.signal.aborted) return;
      const changed = core.setCatalogue(next);
      if (changed.length > 0) await rebuildStrategies(redis, pk, core, changed, log, Date.now);
    }).catch((err: unknown) => {
      log.error({ err }, 'catalogue rebuild failed: giving up the partition to rebuild it');
      lease.lost(`catalogue rebuild failed: ${(err as Error).message}`);
    });
  };
  const stop = live.onChange((next) => apply(next));
  apply(live.current);
  return stop;
}
