import type { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { abortableSleep } from './sleep.js';

interface LoopState {
  position: string | undefined;
  behind: boolean;
  since: number;
  /** A threshold of its own (a timer loop slower than the default allows). */
  stuckAfterMs?: number;
}

/**
 * Whether each consumer loop of a process is alive, for /healthz: a loop is
 * stuck when it has work waiting and has made no progress for
 * `stuckAfterMs`. An idle loop (nothing to read) is never stuck. Pure: the
 * caller feeds it observations (`observe`) or iteration beats (`beat`).
 */
export class LoopHealth {
  private readonly loops = new Map<string, LoopState>();

  constructor(readonly stuckAfterMs: number) {}

  /**
   * A loop's position (how far it has consumed) and whether work waits past
   * it. Progress is a new position; the stuck clock also restarts when work
   * arrives at an idle loop.
   */
  observe(name: string, position: string, behind: boolean, now: number): void {
    const prev = this.loops.get(name);
    if (!prev || prev.position !== position || !prev.behind) {
      this.loops.set(name, { position, behind, since: now });
    } else {
      prev.behind = behind;
    }
  }

  /**
   * The loop's probe did not answer (its Redis connection is held, as by a
   * write that hangs): count it as work waiting, with no progress since the
   * last position seen.
   */
  noAnswer(name: string, now: number): void {
    const prev = this.loops.get(name);
    if (prev) prev.behind = true;
    else this.loops.set(name, { position: undefined, behind: true, since: now });
  }

  /**
   * A timer-driven loop (it always has work) completed an iteration; one
   * that runs every `everyMs` is stuck after three missed iterations at the
   * least.
   */
  beat(name: string, now: number, everyMs = 0): void {
    const stuckAfterMs = Math.max(this.stuckAfterMs, 3 * everyMs);
    this.loops.set(name, { position: undefined, behind: true, since: now, stuckAfterMs });
  }

  /** The loop is gone on purpose (its partition moved to another replica). */
  forget(name: string): void {
    this.loops.delete(name);
  }

  /** Forget every loop whose name is not in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const name of this.loops.keys()) if (!keep.has(name)) this.loops.delete(name);
  }

  /** `loop:<name>` -> ok, for the health check. */
  checks(now: number): Record<string, boolean> {
    const out: Record<string, boolean> = {};
    for (const [name, l] of this.loops) out[`loop:${name}`] = !this.stuck(l, now);
    return out;
  }

  /** Details for /healthz: per loop, whether work waits and how long since progress. */
  report(now: number): Record<string, { ok: boolean; behind: boolean; sinceProgressMs: number }> {
    const out: Record<string, { ok: boolean; behind: boolean; sinceProgressMs: number }> = {};
    for (const [name, l] of this.loops) {
      out[name] = { ok: !this.stuck(l, now), behind: l.behind, sinceProgressMs: now - l.since };
    }
    return out;
  }

  private stuck(l: LoopState, now: number): boolean {
    return l.behind && now - l.since > (l.stuckAfterMs ?? this.stuckAfterMs);
  }
}

/** Compare two stream ids (`ms-seq`) numerically. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const s = BigInt(as) - BigInt(bs);
  return s === 0n ? 0 : s < 0n ? -1 : 1;
}

function field(flat: unknown, name: string): unknown {
  if (!Array.isArray(flat)) return undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

/** A loop to watch: read its position and whether work waits past it. */
export interface LoopProbe {
  name: string;
  read: () => Promise<{ position: string; behind: boolean } | undefined>;
}

/** The newest id ever added to `stream` (XINFO STREAM's last-generated-id); undefined if none. */
async function lastGenerated(redis: Redis, stream: string): Promise<string | undefined> {
  try {
    const info = await redis.call('XINFO', 'STREAM', stream);
    const id = field(info, 'last-generated-id');
    return typeof id === 'string' ? id : undefined;
  } catch (err) {
    if (err instanceof Error && /no such key/i.test(err.message)) return undefined;
    throw err;
  }
}

/**
 * A consumer loop that commits its position as a group's last-delivered-id
 * (the scorer and alerter partition readers): behind when the stream holds
 * an entry past it.
 */
export function groupProbe(redis: Redis, name: string, stream: string, group: string): LoopProbe {
  return {
    name,
    read: async () => {
      const newest = await lastGenerated(redis, stream);
      if (newest === undefined) return { position: '0-0', behind: false };
      const groups = (await redis.call('XINFO', 'GROUPS', stream)) as unknown[];
      const g = groups.find((x) => field(x, 'name') === group);
      const delivered = field(g, 'last-delivered-id');
      if (typeof delivered !== 'string') return undefined; // no group yet: no owner to judge
      return { position: delivered, behind: compareStreamIds(newest, delivered) > 0 };
    },
  };
}

/** A plain reader that keeps its own position (the gateway's followers). */
export function followerProbe(
  redis: Redis,
  name: string,
  stream: string,
  position: () => string,
): LoopProbe {
  return {
    name,
    read: async () => {
      const at = position();
      const newest = await lastGenerated(redis, stream);
      return { position: at, behind: newest !== undefined && compareStreamIds(newest, at) > 0 };
    },
  };
}

/**
 * Poll the probes every `intervalMs` until `signal` aborts, feeding
 * `health`. A probe that fails (Redis down) is skipped: the Redis check
 * says so, and the loop is judged again once Redis answers. A probe that
 * has not answered within `intervalMs` (it shares the loop's connection,
 * held by a command that hangs) counts as no progress; it is not sent again
 * while unanswered. Loops no longer listed (a partition that moved away)
 * are forgotten.
 */
export async function watchLoops(opts: {
  health: LoopHealth;
  probes: () => readonly LoopProbe[];
  intervalMs: number;
  signal: AbortSignal;
  log: Logger;
  /** Loops fed by beats, not probes: never forgotten. */
  keep?: ReadonlySet<string>;
}): Promise<void> {
  const { health, signal } = opts;
  const beaten = opts.keep ?? new Set<string>();
  const inFlight = new Set<string>();
  while (!signal.aborted) {
    const probes = opts.probes();
    health.retain(new Set([...probes.map((p) => p.name), ...beaten]));
    const round = probes.map(async (p) => {
      if (inFlight.has(p.name)) return health.noAnswer(p.name, Date.now());
      inFlight.add(p.name);
      try {
        const r = await p.read();
        if (r) health.observe(p.name, r.position, r.behind, Date.now());
      } catch (err) {
        opts.log.debug({ err, loop: p.name }, 'loop probe failed');
      } finally {
        inFlight.delete(p.name);
      }
    });
    // Wait for the round, but no longer than the interval: a hung probe is judged next round.
    await Promise.race([Promise.all(round), abortableSleep(opts.intervalMs, signal)]);
    await abortableSleep(opts.intervalMs, signal);
  }
}

/** `quantmon_health_check{check}`: 1 while a /healthz check holds, 0 when it fails. */
export function registerHealthGauge(
  registry: Registry,
  checks: () => Record<string, boolean>,
): void {
  new Gauge({
    name: 'quantmon_health_check',
    help: 'Each /healthz check: 1 ok, 0 failing (a stuck consumer loop, a lost Redis connection)',
    labelNames: ['check'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [check, ok] of Object.entries(checks())) this.set({ check }, ok ? 1 : 0);
    },
  });
}

export interface LoopMonitor {
  /** For startHttpServer's `health`: the base checks (Redis) and one `loop:<name>` per loop. */
  health: () => Record<string, boolean>;
  /** For /healthz's details: per loop, whether work waits and how long since progress. */
  report: () => ReturnType<LoopHealth['report']>;
  /** A timer-driven loop completed an iteration (it runs every `everyMs`). */
  beat: (name: string, everyMs?: number) => void;
  /** Resolves once the watcher has stopped (after the signal). */
  done: Promise<void>;
}

/**
 * Everything a service's main.ts needs for loop-aware health: probes polled
 * every `intervalMs` (default 2 s), /healthz checks, and
 * `quantmon_health_check` on /metrics.
 */
export function monitorLoops(opts: {
  registry: Registry;
  stuckAfterMs: number;
  base: () => Record<string, boolean>;
  probes?: () => readonly LoopProbe[];
  signal: AbortSignal;
  log: Logger;
  intervalMs?: number;
}): LoopMonitor {
  const health = new LoopHealth(opts.stuckAfterMs);
  const beaten = new Set<string>();
  const checks = (): Record<string, boolean> => ({
    ...opts.base(),
    ...health.checks(Date.now()),
  });
  registerHealthGauge(opts.registry, checks);
  return {
    health: checks,
    report: () => health.report(Date.now()),
    beat: (name, everyMs) => {
      beaten.add(name);
      health.beat(name, Date.now(), everyMs);
    },
    done: watchLoops({
      health,
      probes: opts.probes ?? (() => []),
      intervalMs: opts.intervalMs ?? 2000,
      signal: opts.signal,
      log: opts.log,
      keep: beaten,
    }),
  };
}
