import {
  createLogger,
  createRedis,
  encodeEntry,
  runGroupConsumer,
  type Entry,
  type GroupConsumerOptions,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import {
  groupState,
  readDeadLetters,
  sleep,
  until,
  waitDrained,
  writeEntries,
} from '../helpers/streams.js';

/**
 * runGroupConsumer in this process against a real Redis: what it acks, what
 * it dead-letters, what it retries, what it takes over from a dead consumer,
 * and how it rides out a Redis restart or a Redis that lost its data.
 */
const Msg = z.strictObject({ n: z.number().int() });
type Msg = z.infer<typeof Msg>;
const GROUP = 'g';
const log = createLogger('group-consumer-test', 'silent');

interface Harness {
  stream: string;
  deadLetterStream: string;
  /** Entries of every batch `handle` accepted, in order. */
  handled: Entry<Msg>[];
  /** How many times `handle` was called (failed calls included). */
  calls: number;
  deadReasons: string[];
  loopErrors: number;
  stop: () => Promise<void>;
}

describe('runGroupConsumer against a real Redis', () => {
  let server: TestRedis;
  let redis: Redis;
  const running: Harness[] = [];
  const prefix = uniquePrefix('gc');
  let streamNo = 0;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = createRedis(server.url, 'blocking', 'group-consumer-test-client');
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((h) => h.stop()));
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.dispose();
  });

  const newStream = (): string => `${prefix}:stream:${streamNo++}`;

  /** Run a consumer on its own blocking connection; `fail` makes `handle` throw for a batch. */
  function consume(
    stream: string,
    opts: {
      fail?: (batch: Entry<Msg>[], call: number) => boolean;
      overrides?: Partial<GroupConsumerOptions<Msg>>;
      url?: string;
    } = {},
  ): Harness {
    const conn = createRedis(opts.url ?? server.url, 'blocking', 'group-consumer-test');
    const controller = new AbortController();
    const h: Harness = {
      stream,
      deadLetterStream: `${stream}:dead`,
      handled: [],
      calls: 0,
      deadReasons: [],
      loopErrors: 0,
      stop: async () => {
        controller.abort();
        await loop;
        conn.disconnect();
      },
    };
    const loop = runGroupConsumer<Msg>({
      redis: conn,
      stream,
      group: GROUP,
      consumer: 'c1',
      startId: '0',
      schema: Msg,
      deadLetterStream: h.deadLetterStream,
      signal: controller.signal,
      log,
      blockMs: 200,
      handle: async (batch) => {
        h.calls++;
        if (opts.fail?.(batch, h.calls)) throw new Error(`rejected ${batch.map((e) => e.value.n)}`);
        h.handled.push(...batch);
      },
      onDeadLetter: (reason) => h.deadReasons.push(reason),
      onLoopError: () => h.loopErrors++,
      ...opts.overrides,
    });
    running.push(h);
    return h;
  }

  const handledNs = (h: Harness): number[] => h.handled.map((e) => e.value.n);
  const msgs = (...ns: number[]): Msg[] => ns.map((n) => ({ n }));

  it('acks and dead-letters malformed entries with stream, id and reason, and handles the valid ones', async () => {
    const stream = newStream();
    const ok1 = await redis.xadd(stream, '*', ...encodeEntry({ n: 1 }));
    const badJson = await redis.xadd(stream, '*', 'd', '{"n":');
    const badSchema = await redis.xadd(stream, '*', ...encodeEntry({ n: 'two' }));
    const missing = await redis.xadd(stream, '*', 'x', '3');
    const ok2 = await redis.xadd(stream, '*', ...encodeEntry({ n: 4 }));
    const h = consume(stream);
    await waitDrained(redis, stream, GROUP);

    expect(h.handled.map((e) => e.id)).toEqual([ok1, ok2]);
    expect(handledNs(h)).toEqual([1, 4]);
    const dead = await readDeadLetters(redis, h.deadLetterStream);
    expect(dead.map((d) => [d['stream'], d['id']])).toEqual([
      [stream, badJson],
      [stream, badSchema],
      [stream, missing],
    ]);
    expect(dead[0]?.['reason']).toMatch(/^invalid JSON/);
    expect(dead[1]?.['reason']).toMatch(/^n: /);
    expect(dead[2]?.['reason']).toBe('missing field "d"');
    expect(JSON.parse(dead[2]?.['fields'] ?? '')).toEqual(['x', '3']);
    expect(h.deadReasons).toEqual(dead.map((d) => d['reason']));
  });

  it('redelivers a batch whose handler throws and acks it once the handler succeeds', async () => {
    const stream = newStream();
    const ids = await writeEntries(redis, stream, msgs(1, 2, 3, 4, 5));
    const h = consume(stream, { fail: (_batch, call) => call <= 2 });
    await waitDrained(redis, stream, GROUP);

    expect(h.calls).toBe(3);
    expect(h.loopErrors).toBe(2);
    expect(h.handled.map((e) => e.id)).toEqual(ids);
    expect(await redis.xlen(h.deadLetterStream)).toBe(0);
  });

  it('dead-letters an entry the handler always rejects, alone, while its batch-mates are handled', async () => {
    const stream = newStream();
    const ids = await writeEntries(redis, stream, msgs(1, 2, 3, 4, 5));
    const h = consume(stream, { fail: (batch) => batch.some((e) => e.value.n === 3) });
    await waitDrained(redis, stream, GROUP);

    expect(handledNs(h)).toEqual([1, 2, 4, 5]);
    const dead = await readDeadLetters(redis, h.deadLetterStream);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ stream, id: ids[2], reason: 'handler failed: rejected 3' });
    expect(JSON.parse(dead[0]?.['fields'] ?? '')).toEqual(['d', '{"n":3}']);
    expect(h.deadReasons).toEqual(['handler failed: rejected 3']);
  });

  it('claims the entries a dead consumer left pending and handles each once', async () => {
    const stream = newStream();
    await redis.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM');
    const ids = await writeEntries(redis, stream, msgs(1, 2, 3));
    // Consumer "dead" reads them and dies before acking.
    await redis.xreadgroup('GROUP', GROUP, 'dead', 'COUNT', 10, 'STREAMS', stream, '>');
    expect((await groupState(redis, stream, GROUP))?.pending).toBe(3);

    const h = consume(stream, { overrides: { consumer: 'live', claimIdleMs: 300 } });
    await waitDrained(redis, stream, GROUP);

    expect(h.handled.map((e) => e.id)).toEqual(ids);
    const pendingOfDead = (await redis.xpending(stream, GROUP, '-', '+', 10, 'dead')) as unknown[];
    expect(pendingOfDead).toEqual([]);
  });

  it('re-reads its own pending first when a read reply is lost in a reconnect, keeping stream order', async () => {
    const stream = newStream();
    await redis.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM');
    const proxy = await startTcpProxy(server.url);
    try {
      // claimIdleMs far away: only the consumer's own re-read can recover the lost entry.
      const h = consume(stream, { url: proxy.url, overrides: { claimIdleMs: 600_000 } });
      await until(async () => (await groupState(redis, stream, GROUP))?.consumers === 1, 'reading');
      // Redis delivers entry 1 (it is now pending on c1) but the reply never arrives.
      proxy.dropReplies = true;
      const [first] = await writeEntries(redis, stream, msgs(1));
      await until(async () => (await groupState(redis, stream, GROUP))?.pending === 1, 'delivery');
      const [second] = await writeEntries(redis, stream, msgs(2));
      // The connection drops; ioredis re-sends the read, which now returns entry 2.
      proxy.dropReplies = false;
      proxy.cutAll();
      await until(() => h.handled.length >= 2, 'both entries handled', 10_000);
      await waitDrained(redis, stream, GROUP);
      expect(h.handled.map((e) => e.id)).toEqual([first, second]);
    } finally {
      await Promise.all(running.splice(0).map((h) => h.stop()));
      await proxy.close();
    }
  });

  it('keeps consuming across a Redis stop and start, handling entries written after the restart', async () => {
    if (server.kind === 'external') return; // an external Redis cannot be restarted
    const stream = newStream();
    const before = await writeEntries(redis, stream, msgs(1, 2));
    const h = consume(stream);
    await until(() => h.handled.length === 2, 'entries before the restart');

    await server.stop();
    await sleep(1000);
    await server.start();
    const after = await writeEntries(redis, stream, msgs(3, 4));
    await until(() => h.handled.length >= 4, 'entries after the restart');
    await waitDrained(redis, stream, GROUP);

    expect(h.handled.map((e) => e.id)).toEqual([...before, ...after]);
    expect(handledNs(h)).toEqual([1, 2, 3, 4]);
  });

  it('recreates its group after Redis lost its data (NOGROUP) and handles new entries', async () => {
    const stream = newStream();
    await writeEntries(redis, stream, msgs(1));
    const h = consume(stream);
    await until(() => h.handled.length === 1, 'the first entry');

    await redis.flushall();
    expect(await groupState(redis, stream, GROUP)).toBeUndefined();
    const after = await writeEntries(redis, stream, msgs(2, 3));
    await until(() => h.handled.length >= 3, 'entries after FLUSHALL');
    await waitDrained(redis, stream, GROUP);

    expect(handledNs(h)).toEqual([1, 2, 3]);
    expect(h.handled.slice(1).map((e) => e.id)).toEqual(after);
    expect(h.loopErrors).toBeGreaterThanOrEqual(1);
    expect((await groupState(redis, stream, GROUP))?.pending).toBe(0);
  });
});
