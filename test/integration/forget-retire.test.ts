import {
  AlertEvent,
  AuditEvent,
  decodeEntry,
  encodeEntry,
  keysFor,
  partitionOf,
  ScoreUpdate,
  type RawEntry,
} from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreUpdate } from '../../services/alerter/src/testing-inputs.js';
import { DEFAULT_METRICS_OPTIONS } from '../../services/scorer/src/metrics/index.js';
import { replayWindows } from '../../services/scorer/src/replay.js';
import { ScorerCore } from '../../services/scorer/src/scorer-core.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startPipeline, type Pipeline } from '../helpers/services.js';

const PARTITIONS = 2;
const DAY = 86_400_000;
const TOKENS = 'adam:admin:a-tok,olga:operator:o-tok';

/**
 * Issue 14, items 4 and 7, against the four real services on a real Redis:
 * idle strategies are forgotten by the scorer, the alerter, the gateway and
 * in Redis (IDLE_FORGET_AFTER of seconds here), an admin retires one
 * through DELETE /api/strategies/{id}, and both come back with empty windows.
 */
describe('forgetting idle strategies and retiring them', () => {
  let server: TestRedis;
  let redis: Redis;
  let pipeline: Pipeline;
  let base: string;
  const prefix = uniquePrefix('forget');
  const keys = keysFor(prefix);
  const pk = (strategy: string) => keys.partition(partitionOf(strategy, PARTITIONS));

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    pipeline = await startPipeline(server.url, prefix, {
      PARTITIONS: String(PARTITIONS),
      IDLE_FORGET_AFTER: '12s',
      ALERTER_NO_DATA_MS: '1500',
      GATEWAY_TOKENS: TOKENS,
    });
    base = `http://127.0.0.1:${pipeline.gateway.port}`;
  }, 120_000);

  afterAll(async () => {
    const codes = await pipeline?.stop();
    redis?.disconnect();
    await server?.dispose();
    if (codes) expect(codes.every((c) => c === 0)).toBe(true);
  });

  const api = (method: string, path: string, token = 'a-tok') =>
    fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const listed = async (strategy: string) => {
    const res = await api('GET', '/api/strategies');
    const body = (await res.json()) as { strategies: { strategy: string; count: number }[] };
    return body.strategies.find((s) => s.strategy === strategy);
  };
  const alerts = async (strategy: string): Promise<AlertEvent[]> => {
    const raw = (await redis.xrange(pk(strategy).alerts, '-', '+')) as RawEntry[];
    return raw
      .map(([, f]) => decodeEntry(f, AlertEvent))
      .flatMap((d) => (d.ok && d.value.subject === `strategy/${strategy}` ? [d.value] : []));
  };
  /** A sample's value on /metrics: `name{...label...} value` (other labels, e.g. the service's, may be there too). */
  const metric = async (port: number, name: string, label = ''): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(label));
    return line ? Number(line.split(' ').at(-1)) : NaN;
  };
  const latestCount = async (strategy: string): Promise<number | undefined> => {
    const json = await redis.hget(pk(strategy).latestScores, strategy);
    return json ? ScoreUpdate.parse(JSON.parse(json)).count : undefined;
  };
  const post = async (strategy: string, n: number, risky = false) => {
    const t0 = Date.now() - n * 1000;
    const res = await pipeline.post(
      Array.from({ length: n }, (_, i) => ({
        strategy,
        ts: risky ? Date.parse('2026-03-02T00:00:00Z') + i * DAY : t0 + i * 1000,
        return: risky ? (i % 2 === 0 ? -0.25 : 0.12) : 0.001 * (i % 3),
      })),
    );
    expect(res.status).toBe(202);
  };

  it('retires a strategy on an admin call: windows, latest state and incidents go, recorded in history and audit', async () => {
    await post('retire-me', 25, true);
    const critical = await eventually(
      async () => (await alerts('retire-me')).find((e) => e.level === 'critical'),
      60_000,
      'a critical incident for retire-me',
    );
    await eventually(() => listed('retire-me'), 10_000, 'retire-me listed');

    expect((await api('DELETE', '/api/strategies/retire-me', 'o-tok')).status).toBe(403);
    expect((await api('DELETE', '/api/strategies/bad%20id')).status).toBe(400);
    const doc = (await (await api('GET', '/api/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.paths['/api/strategies/{id}']).toHaveProperty('delete');
    const res = await api('DELETE', '/api/strategies/retire-me');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      strategy: 'retire-me',
      by: 'adam',
      known: true,
      applied: { scorer: true, alerter: true },
    });

    // Gone from Redis, from every service, and its incidents closed saying why.
    expect(await redis.hexists(pk('retire-me').latestScores, 'retire-me')).toBe(0);
    expect(await redis.hexists(pk('retire-me').ingestLastTs, 'retire-me')).toBe(0);
    expect(await redis.hexists(pk('retire-me').lastSeen, 'strategy/retire-me')).toBe(0);
    expect(await listed('retire-me')).toBeUndefined();
    const events = await eventually(async () => {
      const all = await alerts('retire-me');
      return all.some((e) => e.rule === 'strategy_retired') ? all : undefined;
    });
    const closed = events.filter(
      (e) => e.incidentId === critical.incidentId && e.state === 'resolved',
    );
    expect(closed).toHaveLength(1);
    expect(closed[0]?.message).toContain('retired by adam');
    const open = await redis.hgetall(pk('retire-me').incidents);
    expect(Object.keys(open).filter((k) => k.endsWith('|strategy/retire-me'))).toEqual([]);
    const audit = (await redis.xrange(keys.audit, '-', '+')) as RawEntry[];
    const retired = audit
      .map(([, f]) => decodeEntry(f, AuditEvent))
      .flatMap((d) => (d.ok && d.value.kind === 'strategy-retired' ? [d.value] : []));
    expect(retired).toEqual([expect.objectContaining({ strategy: 'retire-me', by: 'adam' })]);

    // Idempotent: again, nothing is known, nothing breaks.
    const again = await api('DELETE', '/api/strategies/retire-me');
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ known: false });

    // Posting again starts an empty window.
    await post('retire-me', 2);
    expect(await eventually(() => latestCount('retire-me'))).toBe(2);
    expect((await eventually(() => listed('retire-me')))?.count).toBe(2);
  }, 120_000);

  it('forgets idle strategies in every service and in Redis, and starts a returning one afresh', async () => {
    await post('idle-a', 3);
    await post('idle-b', 4);
    await eventually(() => latestCount('idle-b'), 20_000, 'idle-b scored');
    const nd = await eventually(
      async () => (await alerts('idle-a')).find((e) => e.rule === 'no_data'),
      20_000,
      'no_data for idle-a',
    );
    expect(nd.state).toBe('firing');

    for (const s of ['idle-a', 'idle-b']) {
      await eventually(
        async () =>
          (await redis.hexists(pk(s).latestScores, s)) === 0 &&
          (await redis.hexists(pk(s).lastSeen, `strategy/${s}`)) === 0 &&
          (await listed(s)) === undefined
            ? true
            : undefined,
        60_000,
        `${s} forgotten`,
      );
      expect(await redis.hexists(pk(s).ingestLastTs, s)).toBe(0);
    }
    const closed = await eventually(async () =>
      (await alerts('idle-a')).find(
        (e) => e.incidentId === nd.incidentId && e.state === 'resolved',
      ),
    );
    expect(closed.message).toContain('forgotten after 12 s without data');
    expect(
      await metric(
        pipeline.scorer.port,
        'quantmon_scorer_forgotten_strategies_total',
        'reason="idle"',
      ),
    ).toBeGreaterThanOrEqual(2);
    expect(
      await metric(
        pipeline.alerter.port,
        'quantmon_alerter_forgotten_subjects_total',
        'reason="idle"',
      ),
    ).toBeGreaterThanOrEqual(2);
    expect(
      await metric(pipeline.gateway.port, 'quantmon_gateway_forgotten_total', 'kind="strategy"'),
    ).toBeGreaterThanOrEqual(2);

    // The tracked gauges are there (their values depend on what else is alive).
    expect(
      await metric(pipeline.scorer.port, 'quantmon_scorer_tracked_strategies'),
    ).toBeGreaterThanOrEqual(0);
    expect(
      await metric(pipeline.alerter.port, 'quantmon_alerter_tracked_subjects'),
    ).toBeGreaterThanOrEqual(0);
    expect(
      await metric(pipeline.gateway.port, 'quantmon_gateway_tracked_strategies'),
    ).toBeGreaterThanOrEqual(0);

    // Comes back: a window of its new samples only, no no_data of the old silence.
    await post('idle-a', 1);
    expect(await eventually(() => latestCount('idle-a'))).toBe(1);
    expect((await eventually(() => listed('idle-a')))?.count).toBe(1);
  }, 120_000);

  it('restores on a takeover only the strategies the latest-scores hash holds, with their own counts', async () => {
    const p = uniquePrefix('replay');
    const k = keysFor(p).partition(0);
    const r = new Redis(server.url);
    const now = Date.now();
    const sample = (strategy: string, i: number) => ({
      strategy,
      ts: now + i,
      return: 0.01,
      receivedAt: now + i,
    });
    // "gone" was forgotten (no latest score); "back" was forgotten after 5 samples and came back with 2.
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(...(await publishOne(r, k.strategySamples, sample('gone', i))));
    for (let i = 0; i < 5; i++)
      ids.push(...(await publishOne(r, k.strategySamples, sample('back', i))));
    for (let i = 5; i < 7; i++)
      ids.push(...(await publishOne(r, k.strategySamples, sample('back', i))));
    await r.hset(k.latestScores, 'back', JSON.stringify(scoreUpdate('back', {}, { count: 2 })));
    const core = new ScorerCore({ ...DEFAULT_METRICS_OPTIONS, window: 100 });
    const log = { debug: () => {}, warn: () => {} } as never;
    await replayWindows(r, k, ids.at(-1)!, core, log);
    expect(core.has('gone')).toBe(false);
    expect(core.apply(`${now + 86_400_000}-0`, sample('back', 100), now)?.count).toBe(3);
    r.disconnect();
  });
});

async function publishOne(r: Redis, stream: string, value: object): Promise<string[]> {
  const id = await r.xadd(stream, '*', ...encodeEntry(value));
  return id ? [id] : [];
}
