import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ephemeralLow,
  freePort,
  LISTEN_PORTS_FROM,
  portFree,
  PortTakenError,
  spawnRedisServer,
  type LocalRedis,
} from './local-redis.js';
import { alive } from '../test/helpers/pid-alive.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The redis-server that `npm start` and the benchmarks run: what it was
 * started with is what the server reports, so a setting Redis does not
 * accept (a typo, a unit it does not know) fails here, not in production.
 */
describe('spawnRedisServer', () => {
  const servers: LocalRedis[] = [];
  afterAll(async () => {
    for (const s of servers) await s.dispose();
  });

  it('runs npm start’s persistence: AOF every second, rewritten at 1 GB at the least and at 200 % growth', async () => {
    const server = await spawnRedisServer({ persistence: 'aof-everysec' });
    servers.push(server);
    const redis = new Redis(server.url, { lazyConnect: true });
    try {
      await redis.connect();
      const get = async (name: string): Promise<string | undefined> =>
        ((await redis.config('GET', name)) as string[])[1];
      expect(await get('appendonly')).toBe('yes');
      expect(await get('appendfsync')).toBe('everysec');
      expect(await get('auto-aof-rewrite-min-size')).toBe(String(1024 ** 3));
      expect(await get('auto-aof-rewrite-percentage')).toBe('200');
      expect(await get('save')).toBe('');
      expect(await get('maxmemory-policy')).toBe('noeviction');
      expect(await get('lazyfree-lazy-expire')).toBe('yes');
      expect(await get('lazyfree-lazy-user-del')).toBe('yes');
      expect(await get('lazyfree-lazy-server-del')).toBe('yes');
    } finally {
      redis.disconnect();
    }
  });

  // A day of one strategy's ingest marks is one set; when its generation
  // ends, every strategy's set expires within a tenth of a generation.
  it('refuses a port another redis-server answers on, instead of using that one', async () => {
    const first = await spawnRedisServer({ persistence: 'none' });
    servers.push(first);
    const err = await spawnRedisServer({ persistence: 'none', port: first.port }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PortTakenError);
    expect((err as PortTakenError).answering).toBe(first.proc().pid);
    const r = new Redis(first.url);
    expect(await r.ping()).toBe('PONG'); // the first one is unharmed
    r.disconnect();
  });

  it('frees a big set that expires without stopping Redis, where Redis by itself stops for it', async () => {
    const server = await spawnRedisServer({ persistence: 'none' });
    servers.push(server);
    const redis = new Redis(server.url, { lazyConnect: true });
    try {
      await redis.connect();
      await redis.config('SET', 'latency-monitor-threshold', '20');
      const expireStall = async (key: string): Promise<number> => {
        await redis.latency('RESET');
        const p = redis.pipeline();
        for (let i = 0; i < 1_000; i++) {
          p.sadd(key, ...Array.from({ length: 1_000 }, (_, j) => `mark-${i}-${j}`));
        }
        await p.exec();
        expect(await redis.scard(key)).toBe(1_000_000);
        await redis.pexpire(key, 1);
        // Expired by its next lookup (EXISTS), or by then by Redis's own sweep.
        await new Promise((r) => setTimeout(r, 20));
        expect(await redis.exists(key)).toBe(0);
        const events = (await redis.latency('LATEST')) as [string, number, number, number][];
        return events.find(([name]) => name === 'expire-del')?.[2] ?? 0;
      };
      // As quantmon runs it: the main thread only unlinks the set.
      expect(await expireStall('marks:lazy')).toBe(0);
      // Redis's default: the set freed in the main thread (the test's control).
      await redis.config('SET', 'lazyfree-lazy-expire', 'no');
      expect(await expireStall('marks:default')).toBeGreaterThanOrEqual(20);
    } finally {
      redis.disconnect();
    }
  });

  /** The session id of a process (field 6 of /proc/PID/stat), read in the child's script too. */
  const SESSION_OF = `(pid) => Number(require('node:fs').readFileSync('/proc/' + pid + '/stat', 'utf8').split(') ')[1].split(' ')[3])`;

  it.each([
    { how: 'in its starter’s session', opts: {}, ownSession: false },
    // bench:pipeline's: a scheduling group of its own, as npm start's server has.
    { how: 'detached and reaped', opts: { detached: true, reapOnExit: true }, ownSession: true },
  ])(
    'stops the server and removes its folder when its process dies without dispose() ($how)',
    async ({ opts, ownSession }) => {
      // A benchmark whose stdout was closed (`| head`) dies on its next write: here, an uncaught error.
      const script = `
      const { createRequire } = await import('node:module');
      const require = createRequire(import.meta.url);
      const sessionOf = ${SESSION_OF};
      const { spawnRedisServer } = await import(${JSON.stringify(`${here}local-redis.ts`)});
      const s = await spawnRedisServer({ persistence: 'aof-everysec', ...${JSON.stringify(opts)} });
      const pid = s.proc().pid;
      console.log(JSON.stringify({ pid, dir: s.dir, own: sessionOf(process.pid), its: sessionOf(pid) }));
      setTimeout(() => { throw new Error('dies before dispose()'); }, 10);
    `;
      const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((res) => {
        const c = execFile(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script],
          { cwd: here },
          (err, out) => res({ stdout: out, code: c.exitCode ?? (err ? 1 : 0) }),
        );
      });
      expect(code, 'the child died of its error').not.toBe(0);
      const { pid, dir, own, its } = JSON.parse(stdout.trim()) as {
        pid: number;
        dir: string;
        own: number;
        its: number;
      };
      if (ownSession) expect(its, 'its own session: its own pid').toBe(pid);
      else expect(its, 'the session of the process that started it').toBe(own);
      const deadline = Date.now() + 5_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(alive(pid), `redis-server ${pid} still running`).toBe(false);
      expect(existsSync(dir), `${dir} still there`).toBe(false);
    },
  );
});

describe('freePort', () => {
  it('reads the low end of the kernel’s ephemeral range, and nothing from a bad file', () => {
    expect(ephemeralLow(() => '32768\t60999\n')).toBe(32768);
    expect(ephemeralLow(() => '')).toBeUndefined();
    expect(ephemeralLow(() => 'abc 1')).toBeUndefined();
    expect(
      ephemeralLow(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });

  it('picks ports below the ephemeral range that a server can listen on', async () => {
    const low = ephemeralLow();
    // Off Linux, or with a range starting too low, it falls back to the kernel's pick.
    if (low === undefined || low - LISTEN_PORTS_FROM < 1000) return;
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(LISTEN_PORTS_FROM);
      expect(port).toBeLessThan(low);
    }
    expect(await portFree(ports[0]!)).toBe(true);
  });
});
