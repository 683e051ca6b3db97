import type { Logger } from '@quantmon/shared';
import { abortableSleep } from '@quantmon/shared';
import type { Redis } from 'ioredis';

const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface LeadershipOptions {
  redis: Redis;
  key: string;
  /** This alerter's consumer name: unique per replica. */
  id: string;
  ttlMs: number;
  signal: AbortSignal;
  log: Logger;
  /** Runs while this alerter leads; must return once `term` aborts. */
  lead: (term: AbortSignal) => Promise<void>;
  onChange?: (leading: boolean) => void;
}

/**
 * One active alerter: a lock key (SET NX PX) renewed every ttl/3. A standby
 * polls and takes over once the lock expires (within about ttl of the
 * leader's death); a leader that cannot renew for a whole ttl, or finds the
 * lock taken, stops its term. A restarted process with the same consumer
 * name takes its own lock back at once. The incident writes are
 * compare-and-set besides (incident-store.ts), so even two leaders for a
 * moment never double an incident or a job.
 */
export async function runLeadership(opts: LeadershipOptions): Promise<void> {
  const { redis, key, id, ttlMs, signal, log } = opts;
  const period = Math.max(100, Math.floor(ttlMs / 3));
  while (!signal.aborted) {
    let acquired = false;
    try {
      acquired =
        (await redis.set(key, id, 'PX', ttlMs, 'NX')) === 'OK' ||
        Number(await redis.eval(RENEW_LUA, 1, key, id, ttlMs)) === 1;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'leader lock unavailable');
    }
    if (!acquired) {
      await abortableSleep(period, signal);
      continue;
    }
    log.info({ consumer: id }, 'leading: this alerter is active');
    opts.onChange?.(true);
    const term = new AbortController();
    const stop = (): void => term.abort();
    signal.addEventListener('abort', stop, { once: true });
    let failed = false;
    const work = opts.lead(term.signal).catch((err: unknown) => {
      log.error({ err }, 'leader term failed');
      failed = true;
      term.abort();
    });
    let renewedAt = Date.now();
    while (!term.signal.aborted) {
      await abortableSleep(period, term.signal);
      if (term.signal.aborted) break;
      try {
        if (Number(await redis.eval(RENEW_LUA, 1, key, id, ttlMs)) === 1) renewedAt = Date.now();
        else {
          log.warn('leader lock taken by another alerter: standing by');
          term.abort();
        }
      } catch (err) {
        if (Date.now() - renewedAt >= ttlMs) {
          log.warn({ err: (err as Error).message }, 'leader lock not renewed in time: standing by');
          term.abort();
        }
      }
    }
    signal.removeEventListener('abort', stop);
    await work;
    opts.onChange?.(false);
    if (failed) await abortableSleep(period, signal); // no hot loop on a term that fails at once
    if (signal.aborted) {
      try {
        await redis.eval(RELEASE_LUA, 1, key, id);
      } catch {
        // it expires on its own
      }
    }
  }
}
