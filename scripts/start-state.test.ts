import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysFor } from '../packages/shared/src/keys.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../test/helpers/redis-server.js';
import { unknownFlags } from './start-config.js';
import { restoredLine, restoredState, wipeLocalState } from './start-state.js';

describe('npm start state between runs', () => {
  let server: TestRedis;
  beforeAll(async () => {
    server = await startTestRedis();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('counts the strategies, demo ones, open incidents and hosts a run restores', async () => {
    const prefix = uniquePrefix('restored');
    const keys = keysFor(prefix);
    const redis = new Redis(server.url);
    await redis.set(keys.partitionCount, '2');
    await redis.hset(keys.partition(0).latestScores, 'demo-trend', '{}', 'alpha', '{}');
    await redis.hset(keys.partition(1).latestScores, 'demo-meanrev', '{}');
    await redis.hset(keys.partition(1).incidents, 'var_exceeded|strategy/alpha', '{}');
    await redis.hset(keys.latestSystem, 'host-a', '{}');
    redis.disconnect();
    const s = await restoredState(server.url, prefix);
    expect(s).toEqual({ strategies: 3, demo: 2, openIncidents: 1, hosts: 1 });
    expect(restoredLine(s, false)).toBe(
      'restored state from .quantmon/: 3 strategies (2 demo-* from an earlier demo run: retire them ' +
        'with DELETE /api/strategies/{id}), 1 open incidents, 1 hosts; run `npm start -- --fresh` to start clean',
    );
    expect(restoredLine(s, true)).toContain('3 strategies (2 demo-*), 1 open incidents');
  });

  it('says nothing was restored on a first run', async () => {
    const s = await restoredState(server.url, uniquePrefix('empty'));
    expect(s).toEqual({ strategies: 0, demo: 0, openIncidents: 0, hosts: 0 });
    expect(restoredLine(s, true)).toBeUndefined();
  });

  it('--fresh removes the data folders that exist and reports exactly those', () => {
    const root = mkdtempSync(join(tmpdir(), 'quantmon-fresh-'));
    const redisDir = join(root, 'redis-8080');
    mkdirSync(redisDir);
    writeFileSync(join(redisDir, 'appendonly.aof'), 'x');
    const missing = join(root, 'postgres');
    expect(wipeLocalState([redisDir, missing])).toEqual([redisDir]);
    expect(existsSync(redisDir)).toBe(false);
    expect(wipeLocalState([redisDir])).toEqual([]);
    rmSync(root, { recursive: true, force: true });
  });

  it('names arguments npm start does not know, counts included', () => {
    expect(unknownFlags(['--fresh', '--no-demo', '--scorers', '2', '--alerters=3'])).toEqual([]);
    expect(unknownFlags(['--frsh', '--no-history', 'extra'])).toEqual(['--frsh', 'extra']);
  });
});
