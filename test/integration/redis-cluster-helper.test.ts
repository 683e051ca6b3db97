import { REDIS_READ_HIGH_WATER_MARK, waitReady, type RedisRole } from '@quantmon/shared';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { sleep, until } from '../helpers/streams.js';

/**
 * The Cluster test helper itself: six redis-server processes, three masters
 * with one replica each, reached through the services' own Cluster client
 * (createRedis); and what a client sees while a master is killed.
 */
const TAGS = Array.from({ length: 8 }, (_, i) => `{p${i}}`);

interface Write {
  startedAt: number;
  endedAt: number;
  key: string;
  error?: string;
}

/** Sequential SETs of distinct keys under one hash tag until stop() says so. */
function writeLoop(client: Cluster, keyOf: (i: number) => string) {
  const writes: Write[] = [];
  let stopping = false;
  const done = (async () => {
    for (let i = 0; !stopping && i < 5000; i++) {
      const w: Write = { startedAt: Date.now(), endedAt: 0, key: keyOf(i) };
      try {
        await client.set(w.key, String(i));
      } catch (err) {
        w.error = (err as Error).message;
      }
      w.endedAt = Date.now();
      writes.push(w);
      await sleep(5); // pacing: a steady stream, not a flood
    }
  })();
  return {
    writes,
    ok: () => writes.filter((w) => w.error === undefined).length,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

describe('Redis Cluster test helper', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  const prefix = uniquePrefix('cluster');

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = cluster.client('blocking', 'cluster-helper-test');
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts three masters with one replica each, seeded by a REDIS_CLUSTER_NODES list', async ({
    annotate,
  }) => {
    await annotate(`cluster started in ${cluster.startupMs} ms`);
    const roles = cluster.nodes.map((n) => n.role).sort();
    expect(roles).toEqual(['master', 'master', 'master', 'replica', 'replica', 'replica']);
    expect(cluster.nodes.every((n) => n.pid !== null)).toBe(true);
    expect(cluster.seeds.split(',')).toEqual(
      cluster.nodes.map((n) => `redis://127.0.0.1:${n.port}`),
    );
    const info = String(await client.call('CLUSTER', 'INFO'));
    expect(info).toContain('cluster_state:ok');
    expect(info).toContain('cluster_slots_ok:16384');
  });

  it('spreads hash tags {p0}..{p7} over the masters and runs a script on two keys of one tag', async () => {
    for (const tag of TAGS) await client.set(`${prefix}:${tag}:a`, tag);
    // KEYS on one node lists only the keys of its own slots.
    const perMaster = await Promise.all(client.nodes('master').map((m) => m.keys(`${prefix}:*`)));
    expect(perMaster.flat().sort()).toEqual(TAGS.map((t) => `${prefix}:${t}:a`).sort());
    const holders = perMaster.filter((keys) => keys.length > 0);
    expect(holders.length).toBeGreaterThan(1);

    const script = "redis.call('SET', KEYS[2], ARGV[1]); return redis.call('GET', KEYS[1])";
    const a = `${prefix}:{p0}:a`;
    await expect(client.eval(script, 2, a, `${prefix}:{p0}:b`, 'x')).resolves.toBe('{p0}');
    expect(await client.get(`${prefix}:{p0}:b`)).toBe('x');
    await expect(client.eval(script, 2, a, `${prefix}:{p1}:b`, 'x')).rejects.toThrow(/CROSSSLOT/);
  });

  it("raises every node connection's read mark, as a single Redis's (redis-read-ahead.ts)", async () => {
    // The masters' connections exist once a command went to each (the test above).
    const masters = client.nodes('master');
    expect(masters).toHaveLength(3);
    for (const node of masters) {
      await node.ping();
      const socket = (node as unknown as { stream: { readableHighWaterMark: number } }).stream;
      expect(socket.readableHighWaterMark).toBe(REDIS_READ_HIGH_WATER_MARK);
    }
  });

  it('keeps writing through a master failover: writes resume on the promoted replica', async ({
    annotate,
  }) => {
    const tag = '{p3}';
    const roles: RedisRole[] = ['blocking', 'fail-fast'];
    const clients = roles.map((role) => cluster.client(role, `failover-${role}`));
    // A fail-fast client rejects every command until it is ready (no offline queue).
    await Promise.all(clients.map((c) => waitReady(c as unknown as Redis)));
    const loops = clients.map((c, i) => writeLoop(c, (n) => `${prefix}:${tag}:${roles[i]}:${n}`));
    await until(() => loops.every((l) => l.ok() >= 100), 'a hundred writes per client');

    const killedAt = Date.now();
    const failover = await cluster.killMaster(`${prefix}:${tag}:a`);
    const promotedAt = Date.now();
    const issuedAfter = () =>
      Math.min(...loops.map((l) => l.writes.filter((w) => w.startedAt > promotedAt).length));
    await until(() => issuedAfter() >= 100, 'a hundred writes per client after the promotion');
    await Promise.all(loops.map((l) => l.stop()));

    await annotate(
      `master :${failover.port} killed, :${failover.promoted} promoted after ${failover.failoverMs} ms`,
    );
    for (const [i, loop] of loops.entries()) {
      const role = roles[i]!;
      const failed = loop.writes.filter((w) => w.error !== undefined);
      const slowest = Math.max(...loop.writes.map((w) => w.endedAt - w.startedAt));
      const lastBad = failed.at(-1);
      const errors = [...new Set(failed.map((w) => w.error))].join(' | ');
      // Writes acknowledged before the kill but not yet replicated are lost (async replication).
      const acked = loop.writes.filter((w) => w.error === undefined);
      const present = await Promise.all(acked.map((w) => client.exists(w.key)));
      const lost = present.filter((x) => x === 0).length;
      await annotate(
        `${role}: ${loop.writes.length} writes, ${failed.length} failed` +
          (lastBad ? ` (last failure ${lastBad.endedAt - killedAt} ms after the kill)` : '') +
          `, slowest ${slowest} ms, ${lost} acknowledged writes lost${errors ? `; errors: ${errors}` : ''}`,
      );
      // Recovered: every write started after the promotion succeeded.
      expect(loop.writes.filter((w) => w.startedAt > promotedAt && w.error !== undefined)).toEqual(
        [],
      );
      expect(loop.writes.length).toBeGreaterThanOrEqual(200);
    }

    await cluster.restartNode(failover.port);
    const back = cluster.nodes.find((n) => n.port === failover.port);
    expect(back?.role).toBe('replica');
    expect(cluster.nodes.filter((n) => n.role === 'master')).toHaveLength(3);
  });
});
