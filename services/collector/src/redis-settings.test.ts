import type { Logger } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnRedisServer, type LocalRedis } from '../../../scripts/local-redis.js';
import { startTestRedis, type TestRedis } from '../../../test/helpers/redis-server.js';
import { until } from '../../../test/helpers/streams.js';
import {
  checkRedisSettings,
  EXPECTED_SETTINGS,
  MIN_REPL_BACKLOG_BYTES,
  missingSettings,
  replicaCount,
} from './redis-settings.js';

const [LAZY, BACKLOG] = EXPECTED_SETTINGS;

/** A logger that keeps its warn and info calls. */
const capture = () => {
  const warns: [Record<string, unknown>, string][] = [];
  const infos: [Record<string, unknown>, string][] = [];
  const log = {
    warn: (o: Record<string, unknown>, m: string) => warns.push([o, m]),
    info: (o: Record<string, unknown>, m: string) => infos.push([o, m]),
  } as unknown as Logger;
  return { log, warns, infos };
};

describe('missingSettings', () => {
  it('names each expected setting the CONFIG GET answer lacks or has otherwise', () => {
    expect(missingSettings(['lazyfree-lazy-expire', 'yes'])).toEqual([]);
    const [m] = missingSettings(['lazyfree-lazy-expire', 'no']);
    expect(m).toEqual({ setting: EXPECTED_SETTINGS[0], value: 'no' });
    expect(missingSettings([])).toEqual([{ setting: EXPECTED_SETTINGS[0], value: undefined }]);
  });

  it('asks for a replication backlog of 64 MB or more only of a master with a replica', () => {
    const small = ['lazyfree-lazy-expire', 'yes', 'repl-backlog-size', '1048576'];
    expect(missingSettings(small)).toEqual([]);
    expect(missingSettings(small, 1)).toEqual([{ setting: BACKLOG, value: '1048576' }]);
    const enough = [
      'lazyfree-lazy-expire',
      'yes',
      'repl-backlog-size',
      `${MIN_REPL_BACKLOG_BYTES}`,
    ];
    expect(missingSettings(enough, 2)).toEqual([]);
    expect(missingSettings(['lazyfree-lazy-expire', 'no'], 1)).toEqual([
      { setting: LAZY, value: 'no' },
      { setting: BACKLOG, value: undefined },
    ]);
  });
});

describe('replicaCount', () => {
  it('reads connected_slaves from INFO replication', () => {
    const info = '# Replication\r\nrole:master\r\nconnected_slaves:2\r\nslave0:ip=...\r\n';
    expect(replicaCount(info)).toBe(2);
    expect(replicaCount('# Replication\r\nrole:master\r\n')).toBe(0);
  });
});

describe('checkRedisSettings', () => {
  let server: TestRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.dispose();
  });

  it('warns, naming the setting, its value and why, on a Redis that frees big keys in the thread that answers', async () => {
    await redis.config('SET', 'lazyfree-lazy-expire', 'no');
    const { log, warns } = capture();
    await checkRedisSettings(redis, log);
    expect(warns).toHaveLength(1);
    expect(warns[0]![0]).toMatchObject({
      setting: 'lazyfree-lazy-expire',
      value: 'no',
      want: 'yes',
    });
    expect(warns[0]![1]).toMatch(/lazyfree-lazy-expire no; set it to yes: .*839 ms/);
  });

  it('says nothing on a Redis that has it', async () => {
    await redis.config('SET', 'lazyfree-lazy-expire', 'yes');
    const { log, warns, infos } = capture();
    await checkRedisSettings(redis, log);
    expect(warns).toEqual([]);
    expect(infos).toEqual([]);
  });

  it('notes and carries on where CONFIG is refused (a managed Redis)', async () => {
    const refused = new Redis(server.url);
    try {
      refused.config = (() => Promise.reject(new Error('ERR unknown command CONFIG'))) as never;
      const { log, warns, infos } = capture();
      await checkRedisSettings(refused, log);
      expect(warns).toEqual([]);
      expect(infos[0]![1]).toBe('could not read Redis settings');
    } finally {
      refused.disconnect();
    }
  });
});

describe('checkRedisSettings on a master with a replica', () => {
  let master: LocalRedis;
  let replica: LocalRedis;
  let redis: Redis;
  beforeAll(async () => {
    master = await spawnRedisServer({ persistence: 'none' });
    replica = await spawnRedisServer({ persistence: 'none' });
    redis = new Redis(master.url);
    const r = new Redis(replica.url);
    try {
      await r.replicaof('127.0.0.1', master.port);
    } finally {
      r.disconnect();
    }
    // Attached once the master counts it (a full sync of an empty dataset).
    await until(
      async () => replicaCount(await redis.info('replication')) >= 1,
      'the replica to attach',
      10_000,
    );
  });
  afterAll(async () => {
    redis?.disconnect();
    await replica?.dispose();
    await master?.dispose();
  });

  it('warns about Redis’s 1 MB backlog, naming it and why', async () => {
    await redis.config('SET', 'repl-backlog-size', '1mb');
    const { log, warns } = capture();
    await checkRedisSettings(redis, log);
    expect(warns).toHaveLength(1);
    expect(warns[0]![0]).toMatchObject({
      setting: 'repl-backlog-size',
      value: '1048576',
      want: '256mb',
      replicas: 1,
    });
    expect(warns[0]![1]).toMatch(/repl-backlog-size 1048576; set it to 256mb: .*whole dataset/);
  });

  it('says nothing once the backlog is large enough', async () => {
    await redis.config('SET', 'repl-backlog-size', '256mb');
    const { log, warns } = capture();
    await checkRedisSettings(redis, log);
    expect(warns).toEqual([]);
  });
});
