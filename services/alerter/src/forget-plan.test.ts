import { keysFor } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTestRedis,
  uniquePrefix,
  type TestRedis,
} from '../../../test/helpers/redis-server.js';
import { AlerterCore } from './alerter-core.js';
import { AlerterForgetPlan } from './forget-plan.js';
import { sweepLatestSystem } from './latest-system-sweep.js';
import { compileRules } from './rules.js';
import { scoreInput } from './testing-inputs.js';

const T0 = 1_700_000_000_000;
const log = pino({ level: 'silent' });

describe('alerter forgetting (real Redis)', () => {
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

  it('applies a retirement only once the alerter group has read past the scorer’s last update', async () => {
    const pk = keysFor(uniquePrefix('plan')).partition(0);
    const first = await redis.xadd(pk.scores, '*', 'd', '{}');
    await redis.xgroup('CREATE', pk.scores, 'alerter', '0');
    const last = await redis.xadd(pk.scores, '*', 'd', '{}');
    const request = { by: 'adam', at: T0, scoresId: last };
    await redis.hset(pk.retire('alerter'), 'gone', JSON.stringify(request));
    const plan = new AlerterForgetPlan({ redis, pk, group: 'alerter', afterMs: 0, log });
    const core = new AlerterCore(compileRules({}, 60_000), 20, new Map(), new Map(), T0);
    expect(await plan.pick(core, T0)).toEqual([]);
    await redis.xgroup('SETID', pk.scores, 'alerter', first!);
    expect(await plan.pick(core, T0)).toEqual([]);
    await redis.xgroup('SETID', pk.scores, 'alerter', last!);
    const [batch] = await plan.pick(core, T0);
    expect(batch).toEqual({
      subjects: new Set(['strategy/gone']),
      why: { kind: 'retired', by: 'adam', at: T0 },
      retired: ['gone'],
    });
    await redis.hset(pk.lastSeen, 'strategy/gone', String(T0), 'strategy/kept', String(T0));
    await plan.done(batch!);
    expect(await redis.hlen(pk.retire('alerter'))).toBe(0);
    expect(await redis.hkeys(pk.lastSeen)).toEqual(['strategy/kept']);
  });

  it('picks idle subjects in slices, at most once per sweep interval', async () => {
    const pk = keysFor(uniquePrefix('plan')).partition(0);
    const plan = new AlerterForgetPlan({ redis, pk, group: 'alerter', afterMs: 10_000, log });
    const core = new AlerterCore(compileRules({}, 0), 20, new Map(), new Map(), T0);
    for (let i = 0; i < 1200; i++) core.observe(scoreInput(`s${i}`, {}), `${T0}-${i}`, T0);
    core.observe(scoreInput('fresh', {}), `${T0 + 9000}-0`, T0 + 9000);
    const batches = await plan.pick(core, T0 + 15_000);
    expect(batches.map((b) => b.subjects.size)).toEqual([500, 500, 200]);
    expect(batches.every((b) => !b.subjects.has('strategy/fresh'))).toBe(true);
    expect(await plan.pick(core, T0 + 15_500)).toEqual([]); // not due again yet
  });

  it('sweeps idle hosts from the latest-system hash, re-checking each in the script', async () => {
    const keys = keysFor(uniquePrefix('hosts'));
    const host = (h: string, ts: number) => JSON.stringify({ host: h, ts });
    await redis.hset(keys.latestSystem, 'old', host('old', T0), 'new', host('new', T0 + 10_000));
    await redis.hset(keys.latestSystem, 'junk', 'not json');
    expect(await sweepLatestSystem(redis, keys.latestSystem, T0 + 5000)).toBe(1);
    expect((await redis.hkeys(keys.latestSystem)).sort()).toEqual(['junk', 'new']);
  });
});
