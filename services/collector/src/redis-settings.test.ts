import type { Logger } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../../test/helpers/redis-server.js';
import { checkRedisSettings, EXPECTED_SETTINGS, missingSettings } from './redis-settings.js';

describe('missingSettings', () => {
  it('names each expected setting the CONFIG GET answer lacks or has otherwise', () => {
    expect(missingSettings(['lazyfree-lazy-expire', 'yes'])).toEqual([]);
    const [m] = missingSettings(['lazyfree-lazy-expire', 'no']);
    expect(m).toEqual({ setting: EXPECTED_SETTINGS[0], value: 'no' });
    expect(missingSettings([])).toEqual([{ setting: EXPECTED_SETTINGS[0], value: undefined }]);
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
