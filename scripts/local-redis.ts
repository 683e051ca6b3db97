/**
 * A redis-server of our own on loopback, for `npm start`, the tests and the
 * benchmarks: a free port, its own data folder, never another Redis.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { killOnExit, removeOnExit } from './exit-reaper.js';

/** A port the kernel says is free right now on 127.0.0.1 (from its ephemeral range). */
function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The lowest local port the kernel gives outgoing connections (the first
 * number of /proc/sys/net/ipv4/ip_local_port_range), or undefined where
 * that cannot be read.
 */
export function ephemeralLow(
  read: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'),
): number | undefined {
  try {
    const low = Number(read().trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 && low <= 65535 ? low : undefined;
  } catch {
    return undefined;
  }
}

/** The lowest port freePort picks: above the well-known and most registered services' ports. */
export const LISTEN_PORTS_FROM = 10_000;

/**
 * A port free right now on 127.0.0.1 for a server of ours to listen on:
 * chosen at random below the kernel's ephemeral range when the range leaves
 * room, else the kernel's pick.
 *
 * Why not always the kernel's pick (listen on port 0): it comes from the
 * ephemeral range, the same range the kernel takes the local end of every
 * outgoing connection from. Between this call and the server's own listen,
 * any connection made on the machine (another test file's Redis client,
 * run in parallel) may take that port, and the server fails with
 * EADDRINUSE: seen in CI, where `npm start` refused a COLLECTOR_PORT "in
 * use". A port below the range is never an outgoing connection's.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  if (low !== undefined && low - LISTEN_PORTS_FROM >= 1000) {
    for (let i = 0; i < 64; i++) {
      const port = randomInt(LISTEN_PORTS_FROM, low);
      if (await portFree(port)) return port;
    }
  }
  return kernelPort();
}

/** Whether nothing listens on 127.0.0.1:port. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/** One PING on a fresh connection, no retries. */
export async function pingRedis(url: string): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** The port was taken by another redis-server as ours started: pick another. */
export class PortTakenError extends Error {
  constructor(
    readonly port: number,
    /** The pid of the server answering there, when it said. */
    readonly answering: number | undefined,
  ) {
    super(`port ${port} is another redis-server's (pid ${answering ?? 'unknown'})`);
    this.name = 'PortTakenError';
  }
}

/** `process_id` from INFO server of the Redis at `url`, or undefined when it does not answer. */
export async function redisProcessId(url: string): Promise<number | undefined> {
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const pid = Number(/process_id:(\d+)/.exec(await r.info('server'))?.[1]);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

export async function waitForRedis(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pingRedis(url))) {
    if (Date.now() > deadline)
      throw new Error(`redis at ${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * - `none`: nothing on disk (benchmarks measure quantmon, not fsync);
 * - `aof-everysec`: BullMQ's production setting (npm start);
 * - `aof-always`: every write on disk before the reply, so tests can stop and
 *   restart the server and lose nothing.
 */
export type Persistence = 'none' | 'aof-everysec' | 'aof-always';

export interface LocalRedisOptions {
  persistence: Persistence;
  /** Default: a free port. */
  port?: number;
  /** Default: a new temporary folder, removed by dispose(). */
  dir?: string;
  bin?: string;
  /**
   * Own session and process group (setsid): a Ctrl-C in the terminal does
   * not reach it, and on a kernel with autogroup scheduling (most Linux
   * desktops and servers: /proc/sys/kernel/sched_autogroup_enabled) it is
   * its own scheduling group, sharing the cores with the services' group as
   * a container shares them with the others, instead of as one thread among
   * all of theirs. Such a server is its starter's to stop, unless
   * `reapOnExit`.
   */
  detached?: boolean;
  /**
   * Killed (and its temporary folder removed) if this process exits while
   * it runs. Default: when not detached. A benchmark runs its server
   * detached, as `npm start` does, and still reaped.
   */
  reapOnExit?: boolean;
  stdio?: StdioOptions;
  /** redis-server's `loglevel`. Default: its own (notice). */
  logLevel?: 'warning' | 'notice' | 'verbose';
  /** redis-server's `pidfile`: written at start, removed at a clean stop (npm start's leftover check). */
  pidFile?: string;
}

export interface LocalRedis {
  url: string;
  port: number;
  dir: string;
  /** The running server process (replaced by start()). */
  proc(): ChildProcess;
  /** Stop it (SIGTERM; data stays in dir). */
  stop(): Promise<void>;
  /** Start it again on the same port with the same data. */
  start(): Promise<void>;
  /** Stop for good; removes dir when we created it. */
  dispose(): Promise<void>;
}

/**
 * Redis rewrites the AOF when it has grown by 100 % since the last rewrite
 * and is at least this large. Its default, 64 MB, is two seconds of writes
 * at load (~2.3 KB of AOF per sample at 15,000 samples/s, most of it score
 * updates, each written to the stream and to the latest-scores hash), so
 * while the dataset was small Redis forked and a child rewrote the file
 * every 3 s: a quarter of Redis's CPU and the worst seconds of the latency
 * (docs/performance.md, "2026-12-03 (second session)"). What it costs in
 * disk: docs/operations.md, "Redis's AOF".
 */
export const AOF_REWRITE_MIN_SIZE = '1gb';

/**
 * Past the minimum, Redis rewrites when the AOF has grown by this share of
 * what the last rewrite wrote (the dataset, as an RDB preamble). A rewrite
 * costs the child ~11 ns of CPU per byte it writes, whatever the dataset
 * holds, so in steady operation the rewrites cost (that) x (AOF bytes per
 * sample) x 100 / percentage: 14 µs a sample at Redis's 100 % and ~1,300
 * AOF bytes a sample (a steady flow, where the pipeline spends 80-100 µs a
 * sample in all), 7 µs at 200 % (`npm run -s bench:aof-rewrite`,
 * docs/operations.md, "What the rewrites cost"). The price: the AOF grows
 * to three times the rewritten file instead of twice before each rewrite,
 * on disk and in the replay of a restart.
 */
export const AOF_REWRITE_PERCENTAGE = '200';

function persistenceArgs(p: Persistence): string[] {
  if (p === 'none') return ['--appendonly', 'no'];
  return [
    '--appendonly',
    'yes',
    '--appendfsync',
    p === 'aof-always' ? 'always' : 'everysec',
    '--auto-aof-rewrite-min-size',
    AOF_REWRITE_MIN_SIZE,
    '--auto-aof-rewrite-percentage',
    AOF_REWRITE_PERCENTAGE,
  ];
}

/**
 * Big keys freed in a background thread, not in Redis's main thread. The
 * ingest marks are one set per strategy and generation (a generation is
 * INGEST_IDEMPOTENCY_TTL_S, a day by default), so a strategy posting 58
 * samples a second fills a set of 5 M marks a day, and a generation's sets
 * expire within a tenth of a generation of each other. Freed in the main
 * thread (Redis's default), a set of 5 M took 839 ms with Redis answering nothing
 * (docs/operations.md, "Redis's frees"); freed in the background, the
 * main thread only unlinks it. The same for DEL and for values a command
 * replaces.
 */
export const LAZYFREE_ARGS: readonly string[] = [
  '--lazyfree-lazy-expire',
  'yes',
  '--lazyfree-lazy-user-del',
  'yes',
  '--lazyfree-lazy-server-del',
  'yes',
];

/** redis-server's command line: loopback only, no RDB snapshots, never evict, big keys freed in the background, the persistence asked. */
export function redisServerArgs(port: number, dir: string, persistence: Persistence): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    ...LAZYFREE_ARGS,
    ...persistenceArgs(persistence),
  ];
}

export async function spawnRedisServer(opts: LocalRedisOptions): Promise<LocalRedis> {
  const port = opts.port ?? (await freePort());
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'quantmon-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  const args = [
    ...redisServerArgs(port, dir, opts.persistence),
    ...(opts.logLevel ? ['--loglevel', opts.logLevel] : []),
    ...(opts.pidFile ? ['--pidfile', opts.pidFile] : []),
  ];
  let child: ChildProcess | undefined;
  // A server of a benchmark or test that dies without dispose() goes with it
  // (a detached one, `npm start`'s, is its supervisor's to stop).
  const reap = opts.reapOnExit ?? !opts.detached;
  const releaseDir = reap && ownDir ? removeOnExit(dir) : () => false;
  const start = async (): Promise<void> => {
    const c = spawn(opts.bin ?? 'redis-server', args, {
      stdio: opts.stdio ?? 'ignore',
      detached: opts.detached ?? false,
    });
    child = c;
    if (reap) killOnExit(c);
    const failed = new Promise<never>((_, reject) =>
      c.once('error', (err) =>
        reject(new Error(`cannot run redis-server (apt-get install redis-server): ${err.message}`)),
      ),
    );
    await Promise.race([waitForRedis(url), failed]);
    // Two starters that chose the same free port at once: one server binds
    // it, the other exits, and its starter would have gone on with the first
    // one's Redis (seen: two npm starts under test, one using the other's).
    const answering = await redisProcessId(url);
    if (answering !== c.pid) {
      c.kill('SIGKILL');
      throw new PortTakenError(port, answering);
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();
  return {
    url,
    port,
    dir,
    proc: () => {
      if (!child) throw new Error('redis-server not started');
      return child;
    },
    start,
    stop,
    dispose: async () => {
      await stop();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
      releaseDir();
    },
  };
}
