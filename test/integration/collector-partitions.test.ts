import { spawn } from 'node:child_process';
import { DATA_FIELD, encodeEntry, keysFor, partitionOf, SystemSample } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, ROOT, startService, type RunningService } from '../helpers/services.js';
import { PipelineStats } from '../../services/collector/src/pipeline-stats.js';
import { allSamples, strategiesCovering, strategySamples } from './collector-harness.js';

/** Run the collector until it exits by itself (it is expected to refuse to start). */
function runCollectorToExit(
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'services/collector/src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', COLLECTOR_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`collector still running after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The collector in a partitioned pipeline, as real processes: P checks, replicas, host samples. */
describe('collector partitions', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  const services: RunningService[] = [];

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
  });
  afterAll(async () => {
    const codes = await Promise.all(services.map((s) => s.stop()));
    redis?.disconnect();
    await redisServer?.dispose();
    expect(codes).toEqual(services.map(() => 0));
  });

  it('exits 78 naming both counts when started with PARTITIONS=2 against a pipeline stored with 4', async () => {
    const prefix = uniquePrefix('mismatch');
    await redis.set(keysFor(prefix).partitionCount, '4');
    const { code, output } = await runCollectorToExit({
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: '2',
    });
    expect(code).toBe(78);
    expect(output).toMatch(/PARTITIONS=4/);
    expect(output).toMatch(/PARTITIONS=2/);
    // The stored count is untouched.
    expect(await redis.get(keysFor(prefix).partitionCount)).toBe('4');
  });

  it('runs as two replicas with identical settings: adopts the stored count, writes a batch once, host samples in the host partition', async () => {
    const prefix = uniquePrefix('replicas');
    const P = 4;
    const HOST = 'replica-host';
    const keys = keysFor(prefix);
    await redis.set(keys.partitionCount, String(P));
    // No PARTITIONS: both adopt the stored 4.
    const env = {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: prefix,
      HOST_ID: HOST,
      SYSTEM_INTERVAL_MS: '250',
    };
    const replicas = await Promise.all([
      startService('collector', env),
      startService('collector', env),
    ]);
    services.push(...replicas);

    const strategies = strategiesCovering('rep', P, 2);
    const batch = strategies.flatMap((strategy) =>
      Array.from({ length: 25 }, (_, i) => ({ strategy, ts: 10_000 + i, return: 0, id: `i${i}` })),
    );
    // The same batch to both replicas at once, then each again: every sample once.
    const post = (port: number) =>
      fetch(`http://127.0.0.1:${port}/v1/samples`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batch),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, number>,
      }));
    const first = await Promise.all(replicas.map((r) => post(r.port)));
    const again = await Promise.all(replicas.map((r) => post(r.port)));
    for (const r of [...first, ...again]) expect(r.status).toBe(202);
    const accepted = [...first, ...again].reduce((a, r) => a + r.body['accepted']!, 0);
    expect(accepted).toBe(batch.length);
    expect(await allSamples(redis, prefix, P)).toHaveLength(batch.length);
    for (const strategy of strategies) {
      const ts = (await strategySamples(redis, prefix, P, strategy)).map((s) => s.ts);
      expect(ts).toEqual(Array.from({ length: 25 }, (_, i) => 10_000 + i));
    }

    // Host samples: both replicas sample the same host (expected: two writers), all on the
    // stream of the host's partition; the latest-system hash holds the host.
    const hostStream = keys.partition(partitionOf(HOST, P)).systemSamples;
    await eventually(
      async () => ((await redis.xlen(hostStream)) >= 4 ? true : undefined),
      15_000,
      'host samples from both replicas',
    );
    for (let p = 0; p < P; p++) {
      if (p === partitionOf(HOST, P)) continue;
      expect(await redis.exists(keys.partition(p).systemSamples)).toBe(0);
    }
    const hostSamples = (await redis.xrange(hostStream, '-', '+')).map(([, f]) =>
      SystemSample.parse(JSON.parse(f[f.indexOf(DATA_FIELD) + 1]!)),
    );
    expect(new Set(hostSamples.map((x) => x.host))).toEqual(new Set([HOST]));
    const latest = SystemSample.parse(JSON.parse((await redis.hget(keys.latestSystem, HOST))!));
    expect(latest.host).toBe(HOST);
  });

  it('reads operations and processing time over every partition', async () => {
    const prefix = uniquePrefix('stats');
    const P = 4;
    const keys = keysFor(prefix);
    const stats = new PipelineStats(redis, keys, P, `${prefix}-bull`);
    const t0 = Date.now();
    await stats.read(t0, t0); // the baseline of every counter
    // Score updates on two partitions: 1 s of processing on one, 3 s on the other.
    // Processing time reads only these two fields of a score update.
    const update = (strategy: string, seconds: number) => ({
      strategy,
      receivedAt: t0,
      computedAt: t0 + seconds * 1000,
    });
    // Two strategies in two different partitions.
    const [a, b] = [strategiesCovering('pt', P)[1]!, strategiesCovering('pt', P)[3]!];
    for (let i = 0; i < 50; i++) {
      await redis.xadd(keys.partition(partitionOf(a, P)).scores, '*', ...encodeEntry(update(a, 1)));
      await redis.xadd(keys.partition(partitionOf(b, P)).scores, '*', ...encodeEntry(update(b, 3)));
    }
    // Samples added on three partitions count as operations.
    for (const p of [0, 1, 2]) {
      for (let i = 0; i < 10; i++) {
        await redis.xadd(keys.partition(p).strategySamples, '*', DATA_FIELD, '{}');
      }
    }
    const r = await stats.read(Date.now(), t0);
    expect(r.processingTimeP50).toBe(1);
    expect(r.processingTimeP99).toBe(3);
    // Streams that appeared after the baseline count from zero: all 30 entries.
    expect(r.operations).toBe(30);
    // Read again: nothing new, no processing time.
    const quiet = await stats.read(Date.now(), t0);
    expect(quiet.processingTimeP99).toBeUndefined();
  });
});
