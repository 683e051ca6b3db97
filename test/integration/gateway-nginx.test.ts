import { keysFor } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { add, alertEvent, scoreUpdate } from '../helpers/gateway-fixtures.js';
import { startNginx, type TestNginx } from '../helpers/nginx.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { ResumingClient } from '../helpers/resuming-client.js';
import { startService, type RunningService } from '../helpers/services.js';

/**
 * Horizontal scale: three gateway processes, each reading Redis on its
 * own, behind nginx with WebSocket upgrade. Clients spread over the
 * replicas all see the same frames; killing one replica only makes its
 * clients reconnect (through nginx, to a survivor) and resume, with no
 * alert lost or doubled.
 */
describe('three gateways behind nginx', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let gateways: RunningService[] = [];
  let nginx: TestNginx;
  const prefix = uniquePrefix('gwn');
  const keys = keysFor(prefix);

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    const env = { REDIS_URL: redisServer.url, QUANTMON_PREFIX: prefix };
    gateways = await Promise.all(
      [1, 2, 3].map((i) => startService('gateway', { ...env, GATEWAY_ID: `gw-${i}` })),
    );
    nginx = await startNginx(gateways.map((g) => g.port));
  });

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all(gateways.map((g) => g.stop()));
    redis?.disconnect();
    await redisServer?.dispose();
  });

  it('serves REST and the dashboard through the load balancer', async () => {
    const base = `http://127.0.0.1:${nginx.port}`;
    expect((await fetch(`${base}/api/summary`)).status).toBe(200);
    expect((await fetch(`${base}/`)).headers.get('content-type')).toMatch(/text\/html/);
  });

  it('fans the same frames out from every replica, and loses no alert when one is killed', async () => {
    const url = `ws://127.0.0.1:${nginx.port}/ws`;
    const clients = await Promise.all(
      Array.from({ length: 9 }, () =>
        new ResumingClient(url, {
          topics: ['alerts', 'strategy:*'],
          reconnect: true,
          reconnectDelayMs: 200,
          // A browser behind the balancer: same-origin check against the forwarded Host.
          headers: { origin: `http://127.0.0.1:${nginx.port}` },
        }).start(),
      ),
    );
    const firstServer = clients.map((c) => c.servers[0]);
    expect(new Set(firstServer)).toEqual(new Set(['gw-1', 'gw-2', 'gw-3']));

    const written: string[] = [];
    let stop = false;
    const writer = (async () => {
      for (let n = 0; !stop || n < 100; n++) {
        written.push(await add(redis, keys.alerts, alertEvent(n)));
        await add(redis, keys.scores, scoreUpdate(`lb-${n % 3}`, n));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await Promise.all(clients.map((c) => c.waitFor(() => c.alerts().length >= 30)));
    // Same frames everywhere so far: each client's alerts are a prefix of what was written.
    for (const c of clients) {
      // (an alert can arrive before its XADD's reply reaches the writer)
      const n = Math.min(c.alerts().length, written.length);
      expect(
        c
          .alerts()
          .map((f) => f.pos)
          .slice(0, n),
      ).toEqual(written.slice(0, n));
    }

    const victim = gateways[1]!;
    await victim.kill();
    const onVictim = clients.filter((c) => c.servers[0] === 'gw-2');
    expect(onVictim.length).toBeGreaterThan(0);
    await Promise.all(
      onVictim.map((c) => c.waitFor(() => c.connections === 2, 15_000, 'reconnect')),
    );
    stop = true;
    await writer;
    const lastPos = written.at(-1);
    await Promise.all(
      clients.map((c) => c.waitFor(() => c.alerts().at(-1)?.pos === lastPos, 15_000, 'last alert')),
    );
    for (const c of clients) {
      expect(c.alerts().map((f) => f.pos)).toEqual(written);
      // Score frames: no duplicates across the reconnect either.
      const scorePos = c
        .data()
        .filter((f) => f.type === 'score')
        .map((f) => f.pos);
      expect(new Set(scorePos).size).toBe(scorePos.length);
    }
    for (const c of onVictim) {
      expect(c.servers[1]).not.toBe('gw-2');
      expect(c.frames.some((f) => f.type === 'resumed' && f.topic === 'alerts')).toBe(true);
    }
    for (const c of clients.filter((x) => !onVictim.includes(x))) expect(c.connections).toBe(1);
    for (const c of clients) c.stop();
  });
});
