import { keysFor } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertEvent, scoreUpdate } from '../helpers/gateway-fixtures.js';
import { at, byPartition, PartitionedFeed, type Written } from '../helpers/gateway-partitions.js';
import { startNginx, type TestNginx } from '../helpers/nginx.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { ResumingClient } from '../helpers/resuming-client.js';
import { startService, type RunningService } from '../helpers/services.js';

/** Partitions of the pipeline under test: every gateway reads all of them. */
const P = 4;

/**
 * Horizontal scale: three gateway processes, each reading every partition
 * of Redis on its own, behind nginx with WebSocket upgrade. Clients spread
 * over the replicas all see the same frames; killing one replica only
 * makes its clients reconnect (through nginx, to a survivor) and resume
 * with their per-partition positions, with no alert lost or doubled.
 */
describe('three gateways behind nginx', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let feed: PartitionedFeed;
  let gateways: RunningService[] = [];
  let nginx: TestNginx;
  const prefix = uniquePrefix('gwn');
  const keys = keysFor(prefix);

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    feed = new PartitionedFeed(redis, keys, P);
    const env = { REDIS_URL: redisServer.url, QUANTMON_PREFIX: prefix, PARTITIONS: String(P) };
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

    const written: Written[] = [];
    let stop = false;
    const writer = (async () => {
      for (let n = 0; !stop || n < 100; n++) {
        written.push(await feed.alert(alertEvent(n)));
        await feed.score(scoreUpdate(`lb-${n % 3}`, n));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await Promise.all(clients.map((c) => c.waitFor(() => c.alerts().length >= 30)));
    // Same frames everywhere so far: per partition, each client's alerts are
    // a prefix of what was written there.
    const writtenBy = (): Map<number, string[]> => byPartition(written);
    for (const c of clients) {
      const wrote = writtenBy();
      for (const [part, got] of byPartition(c.alerts())) {
        // (an alert can arrive before its XADD's reply reaches the writer)
        const n = Math.min(got.length, wrote.get(part)?.length ?? 0);
        expect(got.slice(0, n)).toEqual(wrote.get(part)?.slice(0, n));
      }
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
    expect(writtenBy().size).toBe(P);
    const want = new Set(written.map(at));
    const hasAll = (c: ResumingClient): boolean =>
      c.alerts().filter((f) => want.has(at(f))).length >= want.size;
    await Promise.all(clients.map((c) => c.waitFor(() => hasAll(c), 15_000, 'every alert')));
    for (const c of clients) {
      // Every alert exactly once, in stream order within its partition.
      expect(byPartition(c.alerts())).toEqual(writtenBy());
      // Score frames: no duplicates across the reconnect either.
      const scorePos = c
        .data()
        .filter((f) => f.type === 'score')
        .map(at);
      expect(new Set(scorePos).size).toBe(scorePos.length);
    }
    for (const c of onVictim) {
      expect(c.servers[1]).not.toBe('gw-2');
      expect(c.frames.some((f) => f.type === 'resumed' && f.topic === 'alerts')).toBe(true);
      // Resumed from per-partition positions: nothing fell back to a snapshot.
      expect(c.frames.filter((f) => f.type === 'reset')).toEqual([]);
    }
    for (const c of clients.filter((x) => !onVictim.includes(x))) expect(c.connections).toBe(1);
    for (const c of clients) c.stop();
  });
});
