import {
  GROUPS,
  IngestAccepted,
  partitionOf,
  publishSampleBatch,
  publishSamples,
} from '@quantmon/shared';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { openSocket, postText, readAnswers } from '../helpers/http-pipelining.js';
import { freePort, uniquePrefix } from '../helpers/redis-server.js';
import { until } from '../helpers/streams.js';
import {
  allSamples,
  ingestSuite,
  partitionSamples,
  rawPost,
  startIngestServer,
  strategiesCovering,
  strategySamples,
} from './collector-harness.js';

/**
 * POST /v1/samples against a real Redis: every status, idempotency, ordering,
 * backpressure. The pipeline has four partitions (the harness's default), so
 * batches with several strategies span partitions.
 */
describe('collector ingest', () => {
  const suite = ingestSuite('ingest');

  async function setup(
    opts: Omit<Parameters<typeof startIngestServer>[0], 'redis' | 'prefix'> = {},
  ) {
    const { srv, prefix, keys } = await suite.start(opts);
    const post = async (body: unknown, headers?: Record<string, string>) => {
      const r = await rawPost(
        srv.url,
        typeof body === 'string' ? body : JSON.stringify(body),
        headers,
      );
      return { ...r, json: JSON.parse(r.body) as Record<string, unknown> };
    };
    /** Every sample written, partition by partition. */
    const stream = () => allSamples(suite.redis, prefix, srv.partitions);
    /** One strategy's samples, in stream order. */
    const of = (strategy: string) => strategySamples(suite.redis, prefix, srv.partitions, strategy);
    /** Keys under the prefix besides the stored partition count: none means nothing was written. */
    const written = async () =>
      (await suite.redis.keys(`${prefix}:*`)).filter((k) => k !== keys.partitionCount);
    return { prefix, keys, post, stream, of, written, srv };
  }

  it('with INGEST_MAX_FUTURE_MS, refuses a ts too far ahead (400, nothing written), so it cannot hold back the real samples after it', async () => {
    const { post, written, of } = await setup({ maxFutureMs: 600_000 });
    const now = Date.now();
    const res = await post([
      { strategy: 'fut-1', ts: now - 60_000, return: 0.01 },
      { strategy: 'fut-1', ts: now + 3 * 3_600_000 + 30_000, return: 0.01 },
    ]);
    expect(res.status).toBe(400);
    expect(res.json['issues']).toEqual([
      {
        path: '[1].ts',
        message: expect.stringMatching(/^\S+ is 3 h ahead of the collector's clock/),
      },
    ]);
    expect(await written()).toEqual([]);
    const ok = await post({ strategy: 'fut-1', ts: now, return: 0.01 });
    expect(ok.status).toBe(202);
    expect(ok.json['accepted']).toBe(1);
    expect((await of('fut-1')).map((s) => s.ts)).toEqual([now]);
  });

  it('accepts one sample with 202, the counts, and writes it stamped with its arrival', async () => {
    const { post, stream } = await setup();
    const before = Date.now();
    const res = await post({ strategy: 's1', ts: '2026-01-05T00:00:00Z', return: 0.01, id: 'a' });
    expect(res.status).toBe(202);
    expect(IngestAccepted.parse(res.json)).toEqual({
      accepted: 1,
      duplicates: 0,
      outOfOrder: 0,
      outOfOrderIndexes: [],
      late: 0,
      reordered: 0,
    });
    const [s] = await stream();
    expect(s).toMatchObject({ strategy: 's1', ts: Date.parse('2026-01-05T00:00:00Z'), id: 'a' });
    expect(s!.receivedAt).toBeGreaterThanOrEqual(before);
  });

  it('rejects a batch with any malformed sample whole: 400 naming each bad item and field', async () => {
    const { post, written } = await setup();
    const res = await post([
      { strategy: 'ok', ts: 1, return: 0.01 },
      { strategy: 'bad id!', ts: 'yesterday', return: '0.1' },
      { strategy: 'ok', ts: 2, return: 0.01, retrun: 1 },
    ]);
    expect(res.status).toBe(400);
    const paths = (res.json['issues'] as { path: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(['[1].return', '[1].strategy', '[1].ts', '[2]']);
    expect(await written()).toEqual([]);
  });

  it('rejects non-finite numbers (1e999 parses as Infinity) and broken JSON with 400', async () => {
    const { post, written } = await setup();
    expect((await post('{"strategy":"x","ts":1,"return":1e999}')).status).toBe(400);
    expect((await post('{"strategy":"x","ts":1,"return":0.1')).status).toBe(400);
    expect((await post('[]')).status).toBe(400);
    expect(await written()).toEqual([]);
  });

  it('answers 401 without a valid bearer token where tokens are configured', async () => {
    const { post } = await setup({ tokens: ['t0k3n', 'other'] });
    const sample = { strategy: 's', ts: 1, return: 0 };
    expect((await post(sample)).status).toBe(401);
    expect(
      (await post(sample, { 'content-type': 'application/json', authorization: 'Bearer nope' }))
        .status,
    ).toBe(401);
    const ok = await post(sample, {
      'content-type': 'application/json',
      authorization: 'Bearer t0k3n',
    });
    expect(ok.status).toBe(202);
  });

  it('answers 413 over the batch count and over the byte limit, declared or streamed', async () => {
    const { post, srv, stream } = await setup({ maxBatch: 3, maxBytes: 2048 });
    const four = Array.from({ length: 4 }, (_, i) => ({ strategy: 's', ts: i, return: 0 }));
    const r1 = await post(four);
    expect(r1.status).toBe(413);
    expect(r1.json['error']).toMatch(/limit of 3/);
    const big = JSON.stringify([{ strategy: 's', ts: 1, return: 0, id: 'x'.repeat(100) }]).padEnd(
      4000,
      ' ',
    );
    expect((await rawPost(srv.url, big)).status).toBe(413);
    const chunked = await rawPost(
      srv.url,
      big,
      { 'content-type': 'application/json' },
      { chunked: true },
    );
    expect(chunked.status).toBe(413);
    // The connection stays usable after a 413.
    expect((await post({ strategy: 's', ts: 1, return: 0 })).status).toBe(202);
    expect(await stream()).toHaveLength(1);
  });

  it('answers 415 for a body that is not JSON by its content type', async () => {
    const { srv } = await setup();
    const res = await rawPost(srv.url, 'strategy=s', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(415);
  });

  it('answers 429 with Retry-After while the scorer group is too far behind, then accepts again', async () => {
    const { post, keys } = await setup({ maxLag: 50, lagCheckMs: 0 });
    const stream = keys.partition(0).strategySamples;
    const p = suite.redis.pipeline();
    for (let i = 0; i < 60; i++) p.xadd(stream, '*', 'd', '{}');
    await p.exec();
    await suite.redis.xgroup('CREATE', stream, GROUPS.scorer, '0');
    const res = await post({ strategy: 's', ts: 1, return: 0 });
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.json['error']).toMatch(/60 samples behind/);
    expect(await suite.redis.xlen(stream)).toBe(60);
    // The scorer catches up: ingest resumes.
    await suite.redis.xreadgroup('GROUP', GROUPS.scorer, 'c', 'COUNT', 100, 'STREAMS', stream, '>');
    expect((await post({ strategy: 's', ts: 1, return: 0 })).status).toBe(202);
  });

  it('answers 503 with Retry-After when Redis is unreachable, writing nothing', async () => {
    const dead = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: () => 1000,
      lazyConnect: true,
    });
    dead.on('error', () => undefined);
    const srv = await startIngestServer({
      redis: dead,
      prefix: uniquePrefix('dead'),
      maxLag: 10,
      storePartitionCount: false,
    });
    suite.adopt(srv);
    const res = await rawPost(srv.url, JSON.stringify({ strategy: 's', ts: 1, return: 0 }));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    dead.disconnect();
  });

  it('answers 503 when REDIS_WAIT_REPLICAS asks for a replica that does not confirm; the retry is idempotent', async () => {
    // This Redis has no replica: WAIT 1 answers 0, so the write is not acknowledged.
    const { post, prefix, stream } = await setup({ replicaWait: { replicas: 1, timeoutMs: 50 } });
    const batch = [{ strategy: 'w', ts: 1, return: 0, id: 'w1' }];
    const res = await post(batch);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    // The cause (WAIT: 0 of 1 replicas) goes to the collector's log, never to the client.
    expect(res.json['error']).toBe('storage unavailable, retry');
    // It was written on the master all the same: the retry (to a collector without WAIT)
    // answers it as a duplicate and nothing is written twice.
    const plain = await startIngestServer({ redis: suite.redis, prefix });
    suite.adopt(plain);
    const retry = await rawPost(plain.url, JSON.stringify(batch));
    expect(JSON.parse(retry.body)).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(await stream()).toHaveLength(1);
  });

  it('counts a retried batch once: duplicates by id are skipped and reported', async () => {
    const { post, of } = await setup();
    const batch = Array.from({ length: 5 }, (_, i) => ({
      strategy: 's',
      ts: 100 + i,
      return: 0.001,
      id: `b-${i}`,
    }));
    expect((await post(batch)).json).toMatchObject({ accepted: 5, duplicates: 0 });
    expect((await post(batch)).json).toMatchObject({ accepted: 0, duplicates: 5, outOfOrder: 0 });
    // A retry that overlaps: three old ids and two new ones.
    const more = [
      ...batch.slice(2),
      ...[5, 6].map((i) => ({ strategy: 's', ts: 100 + i, return: 0, id: `b-${i}` })),
    ];
    expect((await post(more)).json).toMatchObject({ accepted: 2, duplicates: 3 });
    // Ids are per strategy: the same id on another strategy is a different sample.
    expect((await post({ strategy: 't', ts: 1, return: 0, id: 'b-0' })).json).toMatchObject({
      accepted: 1,
    });
    expect((await of('s')).map((s) => s.id)).toEqual([
      'b-0',
      'b-1',
      'b-2',
      'b-3',
      'b-4',
      'b-5',
      'b-6',
    ]);
    expect((await of('t')).map((s) => s.id)).toEqual(['b-0']);
  });

  it('answers pipelined single-sample posts in order, a refused one and a duplicate in their places', async () => {
    const { srv, of } = await setup();
    const body = (i: number, id = `p-${i}`) =>
      JSON.stringify({ strategy: 'pipe', ts: 1000 + i, return: 0.001, id });
    const bodies = Array.from({ length: 24 }, (_, i) => body(i));
    bodies[7] = JSON.stringify({ strategy: 'pipe', ts: 1007, retrun: 0.001 }); // misspelt
    bodies[15] = body(14); // the sample before it again: a retry
    const socket = await openSocket(Number(new URL(srv.url).port));
    const answers = readAnswers(socket);
    // All 24 in one write: the collector reads them together, as a pipelining client sends them.
    socket.write(bodies.map((b) => postText('/v1/samples', b)).join(''));
    await until(() => answers.length === 24, '24 answers');
    socket.destroy();
    expect(answers.map((a) => a.status)).toEqual(bodies.map((_, i) => (i === 7 ? 400 : 202)));
    expect(JSON.parse(answers[7]!.body)).toMatchObject({ error: 'invalid samples' });
    expect(JSON.parse(answers[15]!.body)).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(JSON.parse(answers[16]!.body)).toMatchObject({ accepted: 1, duplicates: 0 });
    expect((await of('pipe')).map((s) => s.id)).toEqual(
      Array.from({ length: 24 }, (_, i) => `p-${i}`).filter((_, i) => i !== 7 && i !== 15),
    );
  });

  it('reads a body that arrives after its headers were handled (Expect: 100-continue)', async () => {
    // A small POST's body normally comes with its headers and is taken from
    // the stream's buffer at once; this one is sent only after the collector
    // has answered 100 Continue, so it reaches a handler already waiting.
    const { srv, of } = await setup();
    const body = JSON.stringify({ strategy: 'late-body', ts: 1, return: 0.01, id: 'lb-1' });
    const socket = await openSocket(Number(new URL(srv.url).port));
    const answers = readAnswers(socket);
    try {
      const request = postText('/v1/samples', body, 'expect: 100-continue\r\n');
      socket.write(request.slice(0, request.length - body.length));
      await until(() => answers.length === 1, 'the 100 Continue');
      expect(answers[0]!.status).toBe(100);
      socket.write(body.slice(0, 10));
      socket.write(body.slice(10));
      await until(() => answers.length === 2, 'the answer');
    } finally {
      socket.destroy();
    }
    expect(answers[1]).toMatchObject({ status: 202 });
    expect(JSON.parse(answers[1]!.body)).toMatchObject({ accepted: 1 });
    expect((await of('late-body')).map((s) => s.id)).toEqual(['lb-1']);
  });

  it('writes two concurrent copies of one batch exactly once', async () => {
    const { post, stream } = await setup();
    const batch = Array.from({ length: 200 }, (_, i) => ({
      strategy: 'c',
      ts: i,
      return: 0,
      id: `c-${i}`,
    }));
    const [a, b] = await Promise.all([post(batch), post(batch)]);
    expect([a.json['accepted'], b.json['accepted']].sort()).toEqual([0, 200]);
    expect(await stream()).toHaveLength(200);
  });

  it('skips samples older than the strategy latest and says which; reorders inside a batch', async () => {
    const { post, of } = await setup();
    expect((await post({ strategy: 'o', ts: 1000, return: 0 })).status).toBe(202);
    const res = await post([
      { strategy: 'o', ts: 500, return: 0 }, // before 1000: skipped
      { strategy: 'o', ts: 3000, return: 0 },
      { strategy: 'p', ts: 10, return: 0 },
      { strategy: 'o', ts: 2000, return: 0 }, // before 3000 in the batch: put first
      { strategy: 'o', ts: 1000, return: 0 }, // equal to the latest: not backwards
    ]);
    expect(res.json).toEqual({
      accepted: 4,
      duplicates: 0,
      outOfOrder: 1,
      outOfOrderIndexes: [0],
      late: 0,
      reordered: 2, // 1000 and 3000 swapped places; 500 and 2000 stayed
    });
    const o = (await of('o')).map((s) => s.ts);
    expect(o).toEqual([1000, 1000, 2000, 3000]);
    // Out-of-order samples do not burn their id: fixed and resent, they are written.
    expect((await post({ strategy: 'o', ts: 100, return: 0, id: 'late-1' })).json).toMatchObject({
      outOfOrder: 1,
    });
    expect((await post({ strategy: 'o', ts: 4000, return: 0, id: 'late-1' })).json).toMatchObject({
      accepted: 1,
    });
  });

  it('writes samples late within the configured tolerance and says so', async () => {
    const { post, stream } = await setup({ toleranceMs: 100 });
    await post({ strategy: 'j', ts: 1000, return: 0 });
    const res = await post([
      { strategy: 'j', ts: 950, return: 0 },
      { strategy: 'j', ts: 850, return: 0 },
    ]);
    // Sorted first (850, 950): 850 is 150 ms before the latest (skipped), 950 within 100 ms (late).
    expect(res.json).toMatchObject({ accepted: 1, late: 1, outOfOrder: 1, outOfOrderIndexes: [1] });
    expect((await stream()).map((s) => s.ts)).toEqual([1000, 950]);
  });

  it('publishSamples writes through the same idempotent, ordered path', async () => {
    const { post, prefix, stream } = await setup();
    const samples = [
      { strategy: 'pub', ts: 20, return: 0.01, id: 'p-2' },
      { strategy: 'pub', ts: 10, return: 0.02, id: 'p-1' },
    ];
    const ids = await publishSamples(suite.redis, samples, { prefix });
    expect(ids).toHaveLength(2);
    expect(await publishSamples(suite.redis, samples, { prefix })).toEqual([]);
    expect((await post(samples)).json).toMatchObject({ accepted: 0, duplicates: 2 });
    const r = await publishSampleBatch(suite.redis, [{ strategy: 'pub', ts: 5, return: 0 }], {
      prefix,
    });
    expect(r.outcomes).toEqual(['out-of-order']);
    await expect(
      publishSamples(suite.redis, [{ strategy: 'pub', ts: 1, return: '1' }], { prefix }),
    ).rejects.toThrow(/return/);
    expect((await stream()).map((s) => s.ts)).toEqual([10, 20]);
  });

  describe('across partitions', () => {
    const P = 4;
    /** Twelve strategies, three in each of the four partitions. */
    const STRATEGIES = strategiesCovering('span', P, 3);
    /** Eight samples per strategy, ids unique per strategy, the whole batch shuffled. */
    function spanningBatch(tag: string, t0 = 1000) {
      const batch = STRATEGIES.flatMap((strategy) =>
        Array.from({ length: 8 }, (_, i) => ({
          strategy,
          ts: t0 + i,
          return: 0.001 * i,
          id: `${tag}-${i}`,
        })),
      );
      // A fixed permutation (37 is coprime to 96), so ingest must restore per-strategy order.
      return batch.map((_, i) => batch[(i * 37) % batch.length]!);
    }

    it('lands each sample of a batch spanning four partitions in its strategy partition, in per-strategy ts order', async () => {
      const { post, prefix } = await setup({ partitions: P });
      expect(new Set(STRATEGIES.map((s) => partitionOf(s, P))).size).toBe(P);
      const batch = spanningBatch('a');
      expect(new Set(batch.map((x) => `${x.strategy}/${x.id}`)).size).toBe(batch.length);
      const res = await post(batch);
      expect(res.status).toBe(202);
      expect(res.json).toMatchObject({ accepted: batch.length, duplicates: 0, outOfOrder: 0 });
      expect(res.json['reordered']).toBeGreaterThan(0);
      for (let p = 0; p < P; p++) {
        const here = await partitionSamples(suite.redis, prefix, p);
        // Only this partition's strategies, each one complete and in ts order.
        const mine = STRATEGIES.filter((s) => partitionOf(s, P) === p);
        expect(new Set(here.map((x) => x.strategy))).toEqual(new Set(mine));
        for (const strategy of mine) {
          const ts = here.filter((x) => x.strategy === strategy).map((x) => x.ts);
          expect(ts).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007]);
        }
      }
    });

    it('writes a retried batch that spans partitions nothing twice, sequential or concurrent', async () => {
      const { post, stream } = await setup({ partitions: P });
      const batch = spanningBatch('r');
      expect((await post(batch)).json).toMatchObject({ accepted: 96, duplicates: 0 });
      expect((await post(batch)).json).toMatchObject({ accepted: 0, duplicates: 96 });
      // Two copies at once: per partition one copy's share wins, the other's answers duplicates.
      const again = spanningBatch('c', 2000);
      const [a, b] = await Promise.all([post(again), post(again)]);
      expect([a.status, b.status]).toEqual([202, 202]);
      const sum = (k: string) => Number(a.json[k]) + Number(b.json[k]);
      expect([sum('accepted'), sum('duplicates'), sum('outOfOrder')]).toEqual([96, 96, 0]);
      const all = await stream();
      expect(all).toHaveLength(192);
      expect(new Set(all.map((x) => `${x.strategy}/${x.id}`)).size).toBe(192);
    });

    it('answers 503 with Retry-After when one partition fails part-way; the retry with the same ids writes only the rest', async () => {
      const { post, prefix, keys, stream } = await setup({ partitions: P });
      const batch = spanningBatch('f');
      const broken = partitionOf(STRATEGIES[0]!, P);
      const brokenShare = batch.filter((x) => partitionOf(x.strategy, P) === broken).length;
      // The partition's stream key holds a string: its XADD fails (WRONGTYPE), the others write.
      await suite.redis.set(keys.partition(broken).strategySamples, 'not a stream');
      const failed = await post(batch);
      expect(failed.status).toBe(503);
      expect(failed.headers['retry-after']).toBe('1');
      // Which partition failed is the collector's business (its log), not the client's.
      expect(failed.json['error']).toBe('storage unavailable, retry');
      for (let p = 0; p < P; p++) {
        if (p === broken) continue;
        const share = batch.filter((x) => partitionOf(x.strategy, P) === p).length;
        expect(await partitionSamples(suite.redis, prefix, p)).toHaveLength(share);
      }
      // The failed share burned no id and moved no ordering state.
      expect(await suite.redis.keys(`${keys.partition(broken).ingestIdsPrefix}*`)).toEqual([]);
      expect(await suite.redis.exists(keys.partition(broken).ingestLastTs)).toBe(0);

      await suite.redis.del(keys.partition(broken).strategySamples);
      const retry = await post(batch);
      expect(retry.status).toBe(202);
      expect(retry.json).toMatchObject({
        accepted: brokenShare,
        duplicates: batch.length - brokenShare,
        outOfOrder: 0,
      });
      const all = await stream();
      expect(all).toHaveLength(batch.length);
      expect(new Set(all.map((x) => `${x.strategy}/${x.id}`)).size).toBe(batch.length);
      for (const strategy of STRATEGIES) {
        const ts = all.filter((x) => x.strategy === strategy).map((x) => x.ts);
        expect(ts).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007]);
      }
    });

    it('sums the scorer lag over partitions for backpressure: 429 only when the sum is over the limit', async () => {
      const { post, keys } = await setup({ partitions: P, maxLag: 50, lagCheckMs: 0 });
      // 20 unread entries on each partition: none is over 50 alone, together they are 80.
      for (let p = 0; p < P; p++) {
        const stream = keys.partition(p).strategySamples;
        const tx = suite.redis.pipeline();
        for (let i = 0; i < 20; i++) tx.xadd(stream, '*', 'd', '{}');
        await tx.exec();
        await suite.redis.xgroup('CREATE', stream, GROUPS.scorer, '0');
      }
      const res = await post({ strategy: 's', ts: 1, return: 0 });
      expect(res.status).toBe(429);
      expect(res.json['error']).toMatch(/80 samples behind/);
      const drain = (p: number) =>
        suite.redis.xreadgroup(
          'GROUP',
          GROUPS.scorer,
          'c',
          'COUNT',
          100,
          'STREAMS',
          keys.partition(p).strategySamples,
          '>',
        );
      await drain(0);
      expect((await post({ strategy: 's', ts: 1, return: 0 })).json['error']).toMatch(
        /60 samples behind/,
      );
      await drain(1);
      // 40 left over two partitions: under the limit.
      expect((await post({ strategy: 's', ts: 1, return: 0 })).status).toBe(202);
    });
  });
});

/**
 * The fast path (fast-http.ts) and Node's HTTP server answer the same
 * requests alike and write the same samples: one sequence, pipelined on
 * one socket, to a collector with INGEST_FAST_PATH on and to one with it off.
 */
describe('collector ingest, fast path and Node server alike', () => {
  const suite = ingestSuite('paths');

  it('gives every status and body alike, and writes the same samples', async () => {
    const auth = 'authorization: Bearer tok\r\n';
    const sample = (ts: number, id: string) => ({ strategy: 'same', ts, return: 0.01, id });
    const requests = [
      postText('/v1/samples', JSON.stringify(sample(1000, 'a')), auth),
      postText('/v1/samples', JSON.stringify([sample(2000, 'b'), sample(3000, 'c')]), auth),
      postText('/v1/samples', JSON.stringify(sample(1000, 'a')), auth), // a retry: duplicate
      postText('/v1/samples', JSON.stringify(sample(500, 'd')), auth), // out of order
      postText('/v1/samples', '{"strategy":"same","ts":4000,"retrun":0.1}', auth),
      postText('/v1/samples', '{"strategy":', auth),
      postText('/v1/samples', JSON.stringify(sample(5000, 'e'))), // no token
      postText('/v1/samples', JSON.stringify(sample(6000, 'f')), auth).replace(
        'content-type: application/json',
        'content-type: text/plain',
      ),
      postText('/v1/samples', JSON.stringify([sample(7000, 'g')]).padEnd(3000), auth), // over maxBytes
      postText('/v1/samples', JSON.stringify(sample(8000, 'h')), auth),
    ];
    const run = async (fastPath: boolean) => {
      const { srv, prefix } = await suite.start({ tokens: ['tok'], maxBytes: 2048, fastPath });
      const socket = await openSocket(Number(new URL(srv.url).port));
      const answers = readAnswers(socket);
      socket.write(requests.join(''));
      await until(() => answers.length === requests.length, 'every answer');
      socket.destroy();
      const written = await strategySamples(suite.redis, prefix, srv.partitions, 'same');
      return { answers, written: written.map((s) => [s.ts, s.id]), statuses: srv.statuses };
    };
    const fast = await run(true);
    const node = await run(false);
    expect(fast.answers.map((a) => a.status)).toEqual([
      202, 202, 202, 202, 400, 400, 401, 415, 413, 202,
    ]);
    expect(fast.answers).toEqual(node.answers);
    expect(fast.written).toEqual([
      [1000, 'a'],
      [2000, 'b'],
      [3000, 'c'],
      [8000, 'h'],
    ]);
    expect(fast.written).toEqual(node.written);
    // Counted alike (metrics), though not in the same order: rejections are counted as they are read.
    expect(fast.statuses.sort()).toEqual(node.statuses.sort());
  });
});
