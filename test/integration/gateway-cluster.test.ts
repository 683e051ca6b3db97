import { AlertsResponse, HistoryPage, keysFor, type RawEntry } from '@quantmon/shared';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertEvent, scoreUpdate } from '../helpers/gateway-fixtures.js';
import { at, byPartition, PartitionedFeed } from '../helpers/gateway-partitions.js';
import { startNginx, type TestNginx } from '../helpers/nginx.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { ResumingClient } from '../helpers/resuming-client.js';
import { startService, type RunningService } from '../helpers/services.js';

const P = 4;

/**
 * Gateways on a real Redis Cluster (three masters, one replica each): one
 * follower per partition on a connection of its own, REST merging the
 * partitions, and clients behind nginx that resume from per-partition
 * positions across a gateway's SIGKILL and a Cluster master's, with every
 * alert the streams hold delivered once, in order within its partition.
 */
describe('gateways on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let feed: PartitionedFeed;
  let gateways: RunningService[] = [];
  let nginx: TestNginx;
  const prefix = uniquePrefix('gwc');
  const keys = keysFor(prefix);

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = cluster.client('blocking', 'gateway-cluster-test');
    // A Cluster client offers the same commands (createRedis types it so too).
    feed = new PartitionedFeed(client as unknown as Redis, keys, P);
    const env = {
      REDIS_CLUSTER_NODES: cluster.seeds,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: String(P),
    };
    gateways = await Promise.all(
      [1, 2].map((i) => startService('gateway', { ...env, GATEWAY_ID: `gwc-${i}` })),
    );
    nginx = await startNginx(gateways.map((g) => g.port));
  }, 120_000);

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all(gateways.map((g) => g.stop()));
    await cluster?.stop();
  });

  /** Every alert entry each partition's stream holds now. */
  const streamAlerts = async (): Promise<{ part: number; pos: string }[]> => {
    const out: { part: number; pos: string }[] = [];
    for (let part = 0; part < P; part++) {
      const entries = (await client.xrange(keys.partition(part).alerts, '-', '+')) as RawEntry[];
      for (const [pos] of entries) out.push({ part, pos });
    }
    return out;
  };

  it('fans out every partition, and resumes across a gateway SIGKILL and a master failover', async () => {
    const url = `ws://127.0.0.1:${nginx.port}/ws`;
    const clients = await Promise.all(
      Array.from({ length: 4 }, () =>
        new ResumingClient(url, {
          topics: ['alerts', 'strategy:*'],
          reconnect: true,
          reconnectDelayMs: 200,
        }).start(),
      ),
    );
    expect(new Set(clients.map((c) => c.servers[0]))).toEqual(new Set(['gwc-1', 'gwc-2']));
    let stop = false;
    let n = 0;
    const writer = (async () => {
      for (; !stop || n < 150; n++) {
        await feed.alert(alertEvent(n));
        await feed.score(scoreUpdate(`cl-${n % 5}`, n));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await Promise.all(clients.map((c) => c.waitFor(() => c.alerts().length >= 30)));
    const victim = gateways[0]!;
    await victim.kill();
    const moved = clients.filter((c) => c.servers[0] === 'gwc-1');
    await Promise.all(moved.map((c) => c.waitFor(() => c.connections === 2, 15_000, 'reconnect')));
    // A master of one partition's slot dies under load; its replica takes over.
    const failover = await cluster.killMaster(keys.partition(0).alerts);
    expect(failover.promoted).not.toBe(failover.port);
    const after = n;
    await Promise.all(clients.map((c) => c.waitFor(() => c.alerts().length >= after, 20_000)));
    stop = true;
    await writer;

    // What the streams hold (asynchronous replication may lose the newest
    // writes of a killed master; the gateway's promise is relative to the stream).
    const held = await streamAlerts();
    expect(byPartition(held).size).toBe(P);
    const want = new Set(held.map(at));
    await Promise.all(
      clients.map((c) =>
        c.waitFor(
          () => c.alerts().filter((f) => want.has(at(f))).length >= want.size,
          20_000,
          'every alert',
        ),
      ),
    );
    for (const c of clients) {
      const got = c.alerts().map(at);
      expect(new Set(got).size).toBe(got.length); // nothing twice
      const kept = c.alerts().filter((f) => want.has(at(f)));
      expect(byPartition(kept)).toEqual(byPartition(held)); // nothing missed, in order
      expect(c.frames.filter((f) => f.type === 'reset')).toEqual([]);
    }
    for (const c of moved) expect(c.servers[1]).toBe('gwc-2');
    for (const c of clients) c.stop();
  }, 120_000);

  it('answers REST from every partition of the Cluster', async () => {
    const base = `http://127.0.0.1:${nginx.port}`;
    const t0 = Date.now();
    for (let i = 0; i < 8; i++) await feed.alert(alertEvent(900 + i, { message: `rest ${i}` }));
    for (let i = 0; i < 5; i++) await feed.score(scoreUpdate('cl-rest', i));
    const alerts = AlertsResponse.parse(
      await (await fetch(`${base}/api/alerts?from=${t0}&limit=100`)).json(),
    );
    // Newest first by stream id: write time, to the millisecond (entries of
    // different partitions written in the same millisecond tie).
    expect(alerts.events.map((e) => e.message).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `rest ${i}`),
    );
    const writtenMs = new Map<string, number>();
    for (let part = 0; part < P; part++) {
      const entries = (await client.xrange(keys.partition(part).alerts, t0, '+')) as RawEntry[];
      for (const [pos, fields] of entries) {
        const m = /"message":"(rest \d)"/.exec(fields[1] ?? '');
        if (m?.[1]) writtenMs.set(m[1], Number(pos.split('-')[0]));
      }
    }
    const ms = alerts.events.map((e) => writtenMs.get(e.message));
    expect([...ms].sort((x, y) => (y ?? 0) - (x ?? 0))).toEqual(ms);
    const h = HistoryPage.parse(
      await (await fetch(`${base}/api/history?topic=strategy:cl-rest&from=${t0}`)).json(),
    );
    expect(h.points.map((p) => ('id' in p.data ? p.data.id : ''))).toEqual(
      Array.from({ length: 5 }, (_, i) => `cl-rest-${i}`),
    );
    const health = (await (await fetch(`${base}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', checks: { redis: true, reader: true } });
  });
});
