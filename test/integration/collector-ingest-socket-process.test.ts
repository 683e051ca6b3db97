import { keysFor } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SampleSocket, SampleSocketClosedError } from '../../packages/client/src/sample-socket.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { startService, type RunningService } from '../helpers/services.js';

/**
 * The ingest socket in a real collector process, as main.ts wires it: its
 * token, its metrics, and SIGTERM with a connection open.
 */
describe('collector process: the ingest socket', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let collector: RunningService | undefined;
  const prefix = uniquePrefix('sock-proc');
  const P = 4;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    collector = await startService('collector', {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: prefix,
      PARTITIONS: String(P),
      SYSTEM_INTERVAL_MS: '60000',
      INGEST_TOKENS: 'sock-token',
    });
  });
  afterAll(async () => {
    await collector?.stop();
    redis?.disconnect();
    await redisServer?.dispose();
  });

  const url = () => `ws://127.0.0.1:${collector!.port}/v1/samples/ws`;
  const metric = async (line: RegExp): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${collector!.port}/metrics`)).text();
    const m = text.split('\n').find((l) => line.test(l));
    return m === undefined ? NaN : Number(m.split(' ').pop());
  };
  const written = async () => {
    let n = 0;
    for (let p = 0; p < P; p++) n += await redis.xlen(keysFor(prefix).partition(p).strategySamples);
    return n;
  };

  it('takes samples with the token, counts them and its connections in /metrics', async () => {
    await expect(SampleSocket.open({ url: url() })).rejects.toThrow(/HTTP 401/);
    const socket = await SampleSocket.open({ url: url(), token: 'sock-token' });
    const answers = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        socket.send({ strategy: `p-${i % 5}`, ts: 1_000 + i, return: 0.001, id: `p${i}` }),
      ),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(await socket.send({ strategy: 'p-0', ts: 1, return: 'x' } as never)).toMatchObject({
      seq: 501,
      status: 400,
    });
    expect(await written()).toBe(500);
    expect(await metric(/^quantmon_ingest_sockets[{ ]/)).toBe(1);
    expect(await metric(/^quantmon_ingest_socket_answers_total\{[^}]*status="202"/)).toBe(500);
    expect(await metric(/^quantmon_ingest_socket_answers_total\{[^}]*status="400"/)).toBe(1);
    expect(await metric(/^quantmon_ingest_samples_total\{[^}]*outcome="written"/)).toBe(500);
    await socket.close();
  });

  it('on SIGTERM answers what it took, closes the connection with 1001 and exits 0', async () => {
    const socket = await SampleSocket.open({ url: url(), token: 'sock-token', reconnect: false });
    const before = await written();
    const sent = Array.from({ length: 2_000 }, (_, i) =>
      socket.send({ strategy: 'term', ts: 10_000 + i, return: 0, id: `t${i}` }),
    );
    // At least one taken and answered before the signal; the rest race it.
    await sent[0];
    const t0 = Date.now();
    const stopping = collector!.stop();
    const settled = await Promise.allSettled(sent);
    const answered = settled.filter((r) => r.status === 'fulfilled').length;
    for (const r of settled) {
      if (r.status === 'rejected') {
        expect(r.reason).toBeInstanceOf(SampleSocketClosedError);
        expect((r.reason as SampleSocketClosedError).code).toBe(1001);
      }
    }
    expect(answered).toBeGreaterThan(0);
    expect(await stopping).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8_000);
    collector = undefined;
    // Every answered message was written; an unanswered one may or may not
    // have been (its resend with the same id would be a duplicate), never twice.
    const n = (await written()) - before;
    expect(n).toBeGreaterThanOrEqual(answered);
    expect(n).toBeLessThanOrEqual(2_000);
  });
});
