import {
  DATA_FIELD,
  GROUPS,
  keysFor,
  partitionOf,
  readPipelineErrors,
  recordPipelineError,
  SystemSample,
  waitReady,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { eventually, startService, type RunningService } from '../helpers/services.js';
import { readScorerLag } from '../../services/collector/src/backpressure.js';
import { pipelineCacheInfo } from '../../services/collector/src/pipeline-cache.js';
import { PipelineStats } from '../../services/collector/src/pipeline-stats.js';
import { parseKeyspaceStats } from '../../services/collector/src/redis-info.js';
import {
  allSamples,
  rawPost,
  startIngestServer,
  strategiesCovering,
  strategySamples,
  type IngestServer,
} from './collector-harness.js';

/**
 * The collector on a real Redis Cluster (three masters, one replica each),
 * through the services' own Cluster client: every command it sends touches
 * keys of one slot, so nothing answers CROSSSLOT.
 */
describe('collector on a Redis Cluster', () => {
  const P = 8;
  let cluster: RedisCluster;
  let redis: Redis;
  const servers: IngestServer[] = [];
  const services: RunningService[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    // createRedis's Cluster client, typed as Redis as the services see it; the
    // fail-fast role, as on the collector's ingest path (it refuses commands until ready).
    redis = cluster.client('fail-fast', 'collector-cluster-test') as unknown as Redis;
    await waitReady(redis);
  });
  afterAll(async () => {
    const codes = await Promise.all(services.map((s) => s.stop()));
    await Promise.all(servers.map((s) => s.close()));
    await cluster?.stop();
    expect(codes).toEqual(services.map(() => 0));
  });

  it('ingests a batch spanning every partition, each share in its own slot, and a retry writes nothing twice', async () => {
    const prefix = uniquePrefix('cl-ingest');
    const srv = await startIngestServer({ redis, prefix, partitions: P });
    servers.push(srv);
    const strategies = strategiesCovering('cl', P, 3);
    const batch = strategies.flatMap((strategy) =>
      [3, 1, 2, 0].map((i) => ({ strategy, ts: 5000 + i, return: 0, id: `x${i}` })),
    );
    const first = await rawPost(srv.url, JSON.stringify(batch));
    expect(first.status).toBe(202);
    expect(JSON.parse(first.body)).toMatchObject({ accepted: batch.length, reordered: 48 });
    const retry = await rawPost(srv.url, JSON.stringify(batch));
    expect(JSON.parse(retry.body)).toMatchObject({ accepted: 0, duplicates: batch.length });
    expect(await allSamples(redis, prefix, P)).toHaveLength(batch.length);
    for (const s of strategies) {
      expect((await strategySamples(redis, prefix, P, s)).map((x) => x.ts)).toEqual([
        5000, 5001, 5002, 5003,
      ]);
    }
  });

  it('waits for a replica of each partition master with REDIS_WAIT_REPLICAS=1', async () => {
    const prefix = uniquePrefix('cl-wait');
    const srv = await startIngestServer({
      redis,
      prefix,
      partitions: P,
      replicaWait: { replicas: 1, timeoutMs: 2000 },
    });
    servers.push(srv);
    const batch = strategiesCovering('w', P).map((strategy) => ({
      strategy,
      ts: 1,
      return: 0,
      id: 'w',
    }));
    const res = await rawPost(srv.url, JSON.stringify(batch));
    expect(res.status).toBe(202);
    expect(await allSamples(redis, prefix, P)).toHaveLength(P);
  });

  it('sums the scorer lag over partitions in different slots', async () => {
    const keys = keysFor(uniquePrefix('cl-lag'));
    for (const p of [0, 3, 6]) {
      const stream = keys.partition(p).strategySamples;
      for (let i = 0; i < 5; i++) await redis.xadd(stream, '*', 'd', '{}');
      await redis.xgroup('CREATE', stream, GROUPS.scorer, '0');
    }
    expect((await readScorerLag(redis, keys, P)).lag).toBe(15);
  });

  it('reads pipeline stats, pipeline errors and the cache hit rate without CROSSSLOT', async () => {
    const keys = keysFor(uniquePrefix('cl-stats'));
    const stats = new PipelineStats(redis, keys, P, '{bull}');
    const t0 = Date.now();
    await stats.read(t0, t0);
    for (const p of [1, 5]) await redis.xadd(keys.partition(p).strategySamples, '*', 'd', '{}');
    await recordPipelineError(redis, keys, 2);
    const r = await stats.read(Date.now(), t0);
    expect(r.operations).toBe(2);
    expect(r.errors).toBe(2);
    expect(await readPipelineErrors(redis, keys)).toBe(2);
    expect(parseKeyspaceStats(await pipelineCacheInfo(redis))).toBeDefined();
  });

  it('runs as a process with REDIS_CLUSTER_NODES: ingest and host samples', async () => {
    const prefix = uniquePrefix('cl-proc');
    const keys = keysFor(prefix);
    const HOST = 'cluster-host';
    const collector = await startService('collector', {
      REDIS_CLUSTER_NODES: cluster.seeds,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: String(P),
      HOST_ID: HOST,
      SYSTEM_INTERVAL_MS: '250',
    });
    services.push(collector);
    const batch = Array.from({ length: 16 }, (_, k) => ({
      strategy: `proc-${k}`,
      ts: 1,
      return: 0,
      id: 'only',
    }));
    const res = await rawPost(
      `http://127.0.0.1:${collector.port}/v1/samples`,
      JSON.stringify(batch),
    );
    expect(res.status).toBe(202);
    expect(await allSamples(redis, prefix, P)).toHaveLength(16);
    expect(await redis.get(keys.partitionCount)).toBe(String(P));
    const stream = keys.partition(partitionOf(HOST, P)).systemSamples;
    const [, fields] = await eventually(
      async () => (await redis.xrevrange(stream, '+', '-', 'COUNT', 1))[0],
      15_000,
      'a host sample on the host partition',
    );
    const sample = SystemSample.parse(JSON.parse(fields[fields.indexOf(DATA_FIELD) + 1]!));
    expect(sample.host).toBe(HOST);
    // The pooled cache hit rate is read from every master.
    const withCache = await eventually(
      async () => {
        const latest = await redis.hget(keys.latestSystem, HOST);
        const s = latest ? SystemSample.parse(JSON.parse(latest)) : undefined;
        return s?.caches?.[0]?.name === 'pipeline' ? s : undefined;
      },
      15_000,
      'the latest host sample',
    );
    expect(withCache.host).toBe(HOST);
  });
});
