/**
 * The two Redis topologies bench/scale.ts measures, both private to the
 * bench and on 127.0.0.1 only: one redis-server without persistence, or a
 * real Redis Cluster (three masters with one replica each) from the test
 * helper. Each answers the environment the services need, a client for the
 * bench's own reads, and the redis-server processes whose CPU is counted.
 */
import { createRedis } from '@quantmon/shared';
import type { Cluster, Redis } from 'ioredis';
import { spawnRedisServer } from '../scripts/local-redis.js';
import { startRedisCluster } from '../test/helpers/redis-cluster.js';

export type TopologyName = 'single' | 'cluster';

export interface RedisProcess {
  pid: number;
  port: number;
  /** A primary serves slots (a single Redis is one primary); a replica follows one. */
  role: 'primary' | 'replica';
}

export interface BenchTopology {
  name: TopologyName;
  /** REDIS_URL or REDIS_CLUSTER_NODES, for the services and the load process. */
  target: { redisUrl: string; clusterNodes: string[] };
  env: Record<string, string>;
  /** The bench's own client (a Cluster client on a Cluster). */
  redis: Redis;
  servers: RedisProcess[];
  /** Calls of one command so far (INFO commandstats), summed over the primaries. */
  calls(command: string): Promise<number>;
  stop(): Promise<void>;
}

/** `calls=` of `cmdstat_<command>` in an INFO commandstats reply. */
function callsIn(info: string, command: string): number {
  const m = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

async function single(): Promise<BenchTopology> {
  const srv = await spawnRedisServer({ persistence: 'none' });
  const redis = createRedis(srv.url, 'blocking', 'bench-scale');
  return {
    name: 'single',
    target: { redisUrl: srv.url, clusterNodes: [] },
    env: { REDIS_URL: srv.url },
    redis,
    servers: [{ pid: srv.proc().pid ?? 0, port: srv.port, role: 'primary' }],
    calls: async (command) => callsIn(await redis.info('commandstats'), command),
    stop: async () => {
      redis.disconnect();
      await srv.dispose();
    },
  };
}

async function cluster(): Promise<BenchTopology> {
  const c = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  const client = c.client('blocking', 'bench-scale');
  const seeds = c.seeds.split(',');
  return {
    name: 'cluster',
    target: { redisUrl: seeds[0]!, clusterNodes: seeds },
    env: { REDIS_CLUSTER_NODES: c.seeds },
    redis: client as unknown as Redis,
    servers: c.nodes.map((n) => ({
      pid: n.pid ?? 0,
      port: n.port,
      role: n.role === 'master' ? 'primary' : 'replica',
    })),
    calls: async (command) => {
      const masters = (client as Cluster).nodes('master');
      const infos = await Promise.all(masters.map((n) => n.info('commandstats')));
      return infos.reduce((a, info) => a + callsIn(info, command), 0);
    },
    stop: () => c.stop(),
  };
}

export function startTopology(name: TopologyName): Promise<BenchTopology> {
  return name === 'single' ? single() : cluster();
}
