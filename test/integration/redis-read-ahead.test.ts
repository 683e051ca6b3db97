import {
  createRedis,
  readAheadOnConnect,
  REDIS_READ_HIGH_WATER_MARK,
  waitReady,
} from '@quantmon/shared';
import { Redis } from 'ioredis';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { until } from '../helpers/streams.js';

/**
 * The services' Redis connections read a large reply without Node pausing
 * the socket between chunks (redis-read-ahead.ts): counted on the socket's
 * own handle, against a plain ioredis connection that does pause.
 */
interface Handle {
  readStop(): number;
}

/** Counts the socket's uv_read_stop calls from now on. */
function countReadStops(socket: Socket): () => number {
  const handle = (socket as unknown as { _handle: Handle })._handle;
  const original = handle.readStop.bind(handle);
  let n = 0;
  handle.readStop = () => {
    n++;
    return original();
  };
  return () => n;
}

const streamOf = (r: Redis): Socket => (r as unknown as { stream: Socket }).stream;

describe('Redis connections read large replies without pausing', () => {
  let server: TestRedis;
  let writer: Redis;
  const key = `${uniquePrefix('read-ahead')}:stream`;
  // 40 entries of 10 kB: one ~400 kB XRANGE reply, many 64 kB socket reads.
  const payload = 'x'.repeat(10_000);

  beforeAll(async () => {
    server = await startTestRedis();
    writer = new Redis(server.url);
    for (let i = 0; i < 40; i++) await writer.xadd(key, '*', 'd', payload);
  });
  afterAll(async () => {
    writer?.disconnect();
    await server?.dispose();
  });

  it('a plain ioredis connection stops reading between chunks (the control)', async () => {
    const plain = new Redis(server.url);
    try {
      await waitReady(plain);
      const stops = countReadStops(streamOf(plain));
      const reply = await plain.xrange(key, '-', '+');
      expect(reply).toHaveLength(40);
      expect(stops()).toBeGreaterThan(0);
    } finally {
      plain.disconnect();
    }
  });

  it('a createRedis connection reads the same reply without a stop, also after a reconnect', async () => {
    const redis = createRedis(server.url, 'blocking', 'read-ahead-test');
    try {
      await waitReady(redis);
      expect(streamOf(redis).readableHighWaterMark).toBe(REDIS_READ_HIGH_WATER_MARK);
      let stops = countReadStops(streamOf(redis));
      expect(await redis.xrange(key, '-', '+')).toHaveLength(40);
      expect(stops()).toBe(0);

      // A new socket after the connection is cut gets the mark too.
      const first = streamOf(redis);
      await writer.client('KILL', 'SKIPME', 'yes', 'TYPE', 'normal');
      await until(
        () => streamOf(redis) !== first && redis.status === 'ready',
        'the connection is back on a new socket',
      );
      expect(streamOf(redis).readableHighWaterMark).toBe(REDIS_READ_HIGH_WATER_MARK);
      stops = countReadStops(streamOf(redis));
      expect(await redis.xrange(key, '-', '+')).toHaveLength(40);
      expect(stops()).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it('readAheadOnConnect applies to a connection made elsewhere', async () => {
    const other = new Redis(server.url, { lazyConnect: true });
    try {
      readAheadOnConnect(other);
      await other.connect();
      const stops = countReadStops(streamOf(other));
      expect(await other.xrange(key, '-', '+')).toHaveLength(40);
      expect(stops()).toBe(0);
    } finally {
      other.disconnect();
    }
  });
});
