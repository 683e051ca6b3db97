import { keysFor } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { mulberry32 } from '../../services/scorer/src/metrics/testing/seeded-series.js';
import { allSamples, rawPost, startIngestServer, type IngestServer } from './collector-harness.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20260105);
const BODIES = 10_000;
const MAX_BYTES = 256 * 1024;

type Gen = (r: Rand) => { body: string; contentType?: string };

class Rand {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  unicode(len: number): string {
    const pools = [
      'abc',
      'é€😀',
      '\u0000\u0007\u001f',
      '\ud800',
      '\ufeff',
      '"\\/',
      '中文テスト',
      '\u202e',
    ];
    let s = '';
    for (let i = 0; i < len; i++) s += this.pick(pools)[this.int(3)] ?? 'x';
    return s;
  }
}

const valid = (r: Rand): Record<string, unknown> => ({
  strategy: r.pick(['s1', 'alpha.beta', 'X_9-z']),
  ts: r.pick([1_700_000_000_000 + r.int(1e6), '2026-01-05T00:00:00Z']),
  return: (r.next() - 0.5) / 10,
  ...(r.next() < 0.3 ? { weights: { SPY: r.next() } } : {}),
  ...(r.next() < 0.3 ? { id: `id-${r.int(1e9)}` } : {}),
});

/** Values that are wrong for the field they replace. */
const BAD: Record<string, unknown[]> = {
  strategy: [1, null, true, {}, [], '', 'has space', 'é', 'x'.repeat(65), 'a:b', '\u0000'],
  ts: [
    'NaN',
    'Infinity',
    '-Infinity',
    -1,
    1.5,
    1e20,
    9e15,
    'yesterday',
    '2026-13-45T00:00:00Z',
    true,
    null,
    {},
    [],
  ],
  return: ['NaN', 'Infinity', '-Infinity', '1e999', '0.1', null, true, {}, [], ''],
  benchmarkReturn: ['NaN', 'Infinity', null, '0.01', []],
  equity: ['1e999', 'Infinity', false, {}],
  weights: [[], 'x', 1, { '': 1 }, { a: '1' }, { a: null }, { a: {} }, { ['k'.repeat(65)]: 1 }],
  targetWeights: [[], 'x', { b: 'NaN' }],
  id: ['', 1, null, 'x'.repeat(129), {}],
};
const REQUIRED = ['strategy', 'ts', 'return'];

/** One malformed sample (as an object that stringifies to JSON). */
function badSample(r: Rand): Record<string, unknown> {
  const s = valid(r);
  switch (r.int(3)) {
    case 0: {
      const field = r.pick(Object.keys(BAD));
      s[field] = r.pick(BAD[field]!);
      return s;
    }
    case 1:
      delete s[r.pick(REQUIRED)];
      return s;
    default:
      s[r.pick(['retrun', 'Strategy', 'extra', r.unicode(1 + r.int(5)), '__proto__x'])] = r.int(10);
      return s;
  }
}

const NON_FINITE_LITERALS = ['1e999', '-1e999', '1E400', '-2e308'];

const GENERATORS: Gen[] = [
  // one malformed sample
  (r) => ({ body: JSON.stringify(badSample(r)) }),
  // a batch of valid samples with malformed ones among them: rejected whole
  (r) => {
    const n = 1 + r.int(50);
    const batch: unknown[] = Array.from({ length: n }, () => valid(r));
    for (let k = 0; k <= r.int(3); k++) batch.splice(r.int(batch.length + 1), 0, badSample(r));
    return { body: JSON.stringify(batch) };
  },
  // numbers JSON parses to Infinity
  (r) => {
    const field = r.pick(['return', 'benchmarkReturn', 'equity']);
    const body = JSON.stringify({ ...valid(r), [field]: 0.5 }).replace(
      `"${field}":0.5`,
      `"${field}":${r.pick(NON_FINITE_LITERALS)}`,
    );
    return { body: r.next() < 0.5 ? body : `[${body}]` };
  },
  // huge numbers where they are out of range
  (r) => ({
    body: JSON.stringify({ ...valid(r), ts: r.pick([1e300, 8.64e15 + 1, -1e300, 2 ** 53 + 2]) }),
  }),
  // truncated JSON: any proper prefix of an object or array
  (r) => {
    const full = JSON.stringify(r.next() < 0.5 ? valid(r) : [valid(r), valid(r)]);
    return { body: full.slice(0, 1 + r.int(full.length - 1)) };
  },
  // deep nesting
  (r) => {
    const d = 1 + r.int(r.next() < 0.8 ? 2000 : 200_000);
    return {
      body:
        r.next() < 0.5 ? '['.repeat(d) + ']'.repeat(d) : '{"a":'.repeat(d) + '1' + '}'.repeat(d),
    };
  },
  // top-level values that are not samples
  (r) => ({
    body: r.pick(['null', '1', '"s"', 'true', '[]', '{}', '[null]', '[1,2]', '[[]]', '""']),
  }),
  // random unicode and control characters
  (r) => ({ body: r.unicode(r.int(200)) }),
  // random bytes, often invalid UTF-8
  (r) => ({
    body: Buffer.from(Array.from({ length: r.int(300) }, () => r.int(256))).toString('latin1'),
  }),
  // the wrong content type (415), even for a valid body
  (r) => ({
    body: JSON.stringify(valid(r)),
    contentType: r.pick(['text/plain', 'application/xml', 'multipart/form-data']),
  }),
  // over the byte limit (413)
  (r) => ({ body: JSON.stringify([valid(r)]).padEnd(MAX_BYTES + 1 + r.int(10_000), ' ') }),
  // duplicate keys and prototype keys
  (r) => ({
    body: r.pick([
      '{"strategy":"s","ts":1,"return":0.1,"return":"x"}',
      '{"__proto__":{"return":1},"strategy":"s","ts":1}',
      '{"constructor":{},"strategy":"s","ts":1,"return":0}',
    ]),
  }),
];

describe('collector ingest fuzz', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let srv: IngestServer;
  const prefix = uniquePrefix('fuzz');

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    srv = await startIngestServer({ redis, prefix, maxBytes: MAX_BYTES, maxBatch: 1000 });
  });
  afterAll(async () => {
    await srv?.close();
    redis?.disconnect();
    await redisServer?.dispose();
  });

  it(`rejects ${BODIES} random malformed bodies without crashing or writing anything (seed ${SEED})`, async () => {
    const rand = new Rand(mulberry32(SEED));
    const bodies = Array.from({ length: BODIES }, () => rand.pick(GENERATORS)(rand));
    const statuses = new Map<number, number>();
    const unexpected: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < bodies.length) {
        const i = next++;
        const { body, contentType } = bodies[i]!;
        const res = await rawPost(srv.url, body, {
          'content-type': contentType ?? 'application/json',
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (![400, 413, 415].includes(res.status) && unexpected.length < 5) {
          unexpected.push(`#${i} ${res.status} ${res.body.slice(0, 200)} <- ${body.slice(0, 200)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(unexpected).toEqual([]);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(BODIES);
    // Every kind of rejection was exercised.
    expect([...statuses.keys()].sort()).toEqual([400, 413, 415]);
    // Nothing written in any partition: no stream, no idempotency marks, no ordering state
    // (the only key is the partition count, stored when the server started).
    expect(await redis.keys(`${prefix}:*`)).toEqual([keysFor(prefix).partitionCount]);
    // Still serving: a valid sample is accepted afterwards.
    const ok = await rawPost(srv.url, JSON.stringify({ strategy: 's', ts: 1, return: 0 }));
    expect(ok.status).toBe(202);
    expect(await allSamples(redis, prefix, srv.partitions)).toHaveLength(1);
  });
});
