import { createServer, type Server } from 'node:http';
import {
  DATA_FIELD,
  keysFor,
  listeningPort,
  partitionOf,
  publishSamples,
  readPipelineErrors,
  SystemSample,
} from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startService, type RunningService } from '../helpers/services.js';

/**
 * Every measured system metric, from a real collector process: HTTP probes
 * against a local server that answers slowly or fails on purpose, cache hit
 * rate from Redis INFO (the pipeline's and a second, listed Redis), the
 * pipeline's own errors (one reported directly, one dead-lettered by a real
 * scorer) and processing time from real score updates.
 */
describe('collector system metrics', () => {
  let redisServer: TestRedis;
  let cacheServer: TestRedis;
  let redis: Redis;
  let cache: Redis;
  let http: Server;
  const services: RunningService[] = [];
  const probed = uniquePrefix('probed');
  const quiet = uniquePrefix('quiet');
  const HOST = 'metrics-host';
  const P = 4;

  beforeAll(async () => {
    [redisServer, cacheServer] = await Promise.all([startTestRedis(), startTestRedis()]);
    redis = new Redis(redisServer.url);
    cache = new Redis(cacheServer.url);
    http = createServer((req, res) => {
      if (req.url === '/ok') res.writeHead(200).end('ok');
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('slow'), 300);
      else if (req.url === '/fail') res.writeHead(500).end('boom');
      // '/hang' never answers
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${listeningPort(http)}`;
    const probes = [
      { name: 'ok', url: `${base}/ok`, intervalMs: 250 },
      { name: 'slow', url: `${base}/slow`, intervalMs: 250, timeoutMs: 2000 },
      { name: 'fail', url: `${base}/fail`, intervalMs: 250 },
      { name: 'hang', url: `${base}/hang`, intervalMs: 250, timeoutMs: 200 },
    ];
    const common = {
      REDIS_URL: redisServer.url,
      SYSTEM_INTERVAL_MS: '300',
      HOST_ID: HOST,
      PARTITIONS: String(P),
    };
    services.push(
      ...(await Promise.all([
        startService('collector', {
          ...common,
          QUANTMON_PREFIX: probed,
          PROBES: JSON.stringify(probes),
          CACHE_REDIS_URLS: cacheServer.url,
        }),
        startService('collector', { ...common, QUANTMON_PREFIX: quiet }),
        startService('scorer', { ...common, QUANTMON_PREFIX: quiet }),
      ])),
    );
  });

  afterAll(async () => {
    const codes = await Promise.all(services.map((s) => s.stop()));
    http?.closeAllConnections();
    http?.close();
    redis?.disconnect();
    cache?.disconnect();
    await Promise.all([redisServer?.dispose(), cacheServer?.dispose()]);
    expect(codes).toEqual(services.map(() => 0));
  });

  /** The host's samples: on the system-samples stream of the host's partition. */
  async function samples(prefix: string, since = '-'): Promise<SystemSample[]> {
    const stream = keysFor(prefix).partition(partitionOf(HOST, P)).systemSamples;
    const entries = await redis.xrange(stream, since, '+');
    return entries.map(([, f]) => SystemSample.parse(JSON.parse(f[f.indexOf(DATA_FIELD) + 1]!)));
  }
  /** The first sample written after now that satisfies `match`. */
  function nextSample(
    prefix: string,
    match: (s: SystemSample) => boolean,
    what: string,
    timeoutMs = 15_000,
  ) {
    const since = `${Date.now()}-0`;
    return eventually(async () => (await samples(prefix, since)).find(match), timeoutMs, what);
  }

  it('measures CPU, memory, disk, network and load from the very first sample', async () => {
    const [first] = await eventually(
      async () => {
        const s = await samples(quiet);
        return s.length > 0 ? s : undefined;
      },
      15_000,
      'a first system sample',
    );
    expect(first!.cpu).toBeGreaterThanOrEqual(0);
    expect(first!.cpu).toBeLessThanOrEqual(100);
    expect(first!.memory).toBeGreaterThan(0);
    expect(first!.disk).toBeGreaterThan(0);
    expect(first!.load1).toBeGreaterThanOrEqual(0);
    expect(first!.netInBytesPerSec).toBeGreaterThanOrEqual(0);
    // Nothing is reported that was not measured: no probes configured, no API time.
    expect(first!.apiResponseTime).toBeUndefined();
    expect(first!.probes).toBeUndefined();
  });

  it('reports each probe: success, status and time; apiResponseTime is the worst', async () => {
    const s = await nextSample(probed, (x) => (x.probes?.length ?? 0) === 4, 'all four probes');
    const by = Object.fromEntries(s.probes!.map((p) => [p.name, p]));
    expect(by['ok']).toMatchObject({ ok: true, status: 200 });
    expect(by['slow']).toMatchObject({ ok: true, status: 200 });
    expect(by['slow']!.seconds).toBeGreaterThanOrEqual(0.29);
    expect(by['fail']).toMatchObject({ ok: false, status: 500 });
    expect(by['hang']!.ok).toBe(false);
    expect(by['hang']!.status).toBeUndefined();
    expect(by['hang']!.seconds).toBeGreaterThanOrEqual(0.19);
    expect(s.apiResponseTime).toBe(Math.max(...s.probes!.map((p) => p.seconds)));
    // Two of four probes fail every run: a large share of the minute's operations.
    expect(s.errorRate).toBeGreaterThan(5);
  });

  it('reports cache hit rate per listed Redis and pooled, from INFO deltas', async () => {
    await cache.set('k', 'v');
    const label = `127.0.0.1:${cacheServer.port}/0`;
    const s = await eventually(
      async () => {
        await cache.pipeline().get('k').get('k').get('k').get('missing').exec();
        await new Promise((r) => setTimeout(r, 100));
        const latest = (await samples(probed)).slice(-3);
        return latest.find((x) => x.caches?.some((c) => c.name === label && c.hitRate === 75));
      },
      15_000,
      'a 75 % hit rate on the listed cache',
    );
    expect(s.caches!.map((c) => c.name)).toEqual(['pipeline', label]);
    expect(s.cacheHitRate).toBeGreaterThanOrEqual(0);
    expect(s.cacheHitRate).toBeLessThanOrEqual(100);
  });

  it('counts dead-lettered entries as pipeline errors in the error rate', async () => {
    const keys = keysFor(quiet);
    await nextSample(quiet, (x) => x.errorRate === 0, 'a zero error rate with nothing failing');
    const before = await readPipelineErrors(redis, keys);
    await redis.xadd(
      keys.partition(partitionOf('x', P)).strategySamples,
      '*',
      DATA_FIELD,
      '{"strategy":"x","return":"nope"}',
    );
    await eventually(
      async () => ((await redis.xlen(keys.deadLetter)) > 0 ? true : undefined),
      15_000,
      'dead letter',
    );
    await eventually(
      async () => ((await readPipelineErrors(redis, keys)) > before ? true : undefined),
      5000,
      'the scorer reporting the dead letter',
    );
    const s = await nextSample(quiet, (x) => (x.errorRate ?? 0) > 0, 'a non-zero error rate');
    expect(s.errorRate).toBeLessThanOrEqual(100);
    // The count the rate is a percentage of travels with it (for the alerter's minVolume).
    expect(s.errorRateOperations).toBeGreaterThanOrEqual(1);
  });

  it('reports processing time p50/p99 from sample arrival to score update', async () => {
    const t0 = Date.parse('2026-03-02T00:00:00Z');
    await publishSamples(
      redis,
      Array.from({ length: 50 }, (_, i) => ({
        strategy: 'pt',
        ts: t0 + i * 1000,
        return: 0.001 * (i % 3),
      })),
      { prefix: quiet },
    );
    const s = await nextSample(quiet, (x) => x.processingTimeP99 !== undefined, 'processing time');
    expect(s.processingTimeP50).toBeGreaterThanOrEqual(0);
    expect(s.processingTimeP99).toBeGreaterThanOrEqual(s.processingTimeP50!);
    expect(s.processingTimeP99).toBeLessThan(30);
  });
});
