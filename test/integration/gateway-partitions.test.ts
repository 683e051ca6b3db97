import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import {
  AlertCommand,
  AlertsResponse,
  closeHttpServer,
  createLogger,
  createRegistry,
  decodeEntry,
  encodeEntry,
  HistoryPage,
  keysFor,
  listeningPort,
  partitionOf,
  startHttpServer,
  type AlertEvent,
  type Incident,
  type RawEntry,
} from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRoutes } from '../../services/gateway/src/alert-routes.js';
import { apiRoutes } from '../../services/gateway/src/api-routes.js';
import { GatewayState } from '../../services/gateway/src/gateway-state.js';
import { loadState } from '../../services/gateway/src/stream-feed.js';
import { alertEvent, scoreUpdate, systemSample } from '../helpers/gateway-fixtures.js';
import { PartitionedFeed } from '../helpers/gateway-partitions.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { ROOT } from '../helpers/services.js';

const P = 4;

/**
 * The gateway's reads across partitions, in-process over a real Redis:
 * alert events merged from every partition's stream, open incidents from
 * every partition's hash, acks to the one global command stream, history
 * from a strategy's own partition or from all, state loaded from every
 * partition; and a gateway process refusing a partition count that is
 * not the pipeline's.
 */
describe('gateway reads over partitions', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let http: Server;
  let base: string;
  const prefix = uniquePrefix('gwp');
  const keys = keysFor(prefix);
  const state = new GatewayState(P);
  let feed: PartitionedFeed;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    feed = new PartitionedFeed(redis, keys, P);
    http = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      log: createLogger('test', 'silent'),
      registry: createRegistry('test'),
      health: () => ({}),
      routes: [
        alertRoutes(redis, keys, { partitions: P }),
        apiRoutes({ redis, keys, state, partitions: P, historyMaxScan: 100_000, openapi: {} }),
      ],
    });
    base = `http://127.0.0.1:${listeningPort(http)}`;
  });

  afterAll(async () => {
    if (http) await closeHttpServer(http);
    redis?.disconnect();
    await redisServer?.dispose();
  });

  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };

  /** XADD with an explicit id (`ms-0`), so the order across partitions is known. */
  const addAlertAt = async (ms: number, a: AlertEvent): Promise<void> => {
    await redis.xadd(keys.partition(feed.partOfAlert(a)).alerts, `${ms}-0`, ...encodeEntry(a));
  };

  it('lists alert events of every partition newest first, with limit, from/to and nextTo', async () => {
    const t0 = Date.now() - 60_000;
    const events = Array.from({ length: 21 }, (_, i) => alertEvent(100 + i, {}, t0 + i));
    for (const [i, e] of events.entries()) await addAlertAt(t0 + i, e);
    expect(new Set(events.map((e) => feed.partOfAlert(e))).size).toBe(P);
    const ids = (r: AlertsResponse) => r.events.map((e) => e.incidentId);
    const newest = [...events].reverse().map((e) => e.incidentId);

    const all = AlertsResponse.parse(await get(`/api/alerts?limit=100`));
    expect(ids(all)).toEqual(newest);
    expect(all.nextTo).toBeUndefined();

    const page = AlertsResponse.parse(await get(`/api/alerts?limit=5`));
    expect(ids(page)).toEqual(newest.slice(0, 5));
    expect(page.nextTo).toBe(t0 + 15);
    const next = AlertsResponse.parse(await get(`/api/alerts?limit=5&to=${page.nextTo}`));
    expect(ids(next)).toEqual(newest.slice(5, 10));

    const range = AlertsResponse.parse(await get(`/api/alerts?from=${t0 + 3}&to=${t0 + 6}`));
    expect(ids(range)).toEqual(newest.slice(14, 18));
  });

  it('shows open incidents of every partition and sends acks to the global command stream', async () => {
    const incident = (n: number): Incident => ({
      firing: alertEvent(n, { incidentId: `open-${n}`, startsAt: 1000 + n }),
      jobEnqueued: false,
    });
    const open = [incident(200), incident(201), incident(202), incident(203)];
    const parts = open.map((i) => feed.partOfAlert(i.firing));
    expect(new Set(parts).size).toBeGreaterThan(1);
    for (const [k, i] of open.entries()) {
      await redis.hset(
        keys.partition(parts[k] ?? 0).incidents,
        `${i.firing.rule}|${i.firing.subject}`,
        JSON.stringify(i),
      );
    }
    const res = AlertsResponse.parse(await get('/api/alerts?limit=1'));
    expect(res.active.map((a) => a.incidentId)).toEqual([
      'open-203',
      'open-202',
      'open-201',
      'open-200',
    ]);

    const target = open.find((_, k) => (parts[k] ?? 0) !== 0) ?? open[0]!;
    const ack = await fetch(`${base}/api/alerts/${target.firing.incidentId}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ by: 'desk' }),
    });
    expect(ack.status).toBe(202);
    const cmds = (await redis.xrange(keys.alertCommands, '-', '+')) as RawEntry[];
    const decoded = cmds.map(([, f]) => decodeEntry(f, AlertCommand));
    expect(decoded).toEqual([
      {
        ok: true,
        value: expect.objectContaining({ type: 'ack', incidentId: target.firing.incidentId }),
      },
    ]);
    const unknown = await fetch(`${base}/api/alerts/nope/ack`, {
      method: 'POST',
      body: '{"by":"x"}',
    });
    expect(unknown.status).toBe(404);
  });

  it("reads a strategy's history from its own partition, and alerts or system history from every one", async () => {
    const t0 = Date.now();
    const home = partitionOf('hist-x', P);
    for (let i = 0; i < 10; i++) await feed.score(scoreUpdate('hist-x', i));
    // A stray entry in another partition's stream is not where hist-x lives: not read.
    const other = (home + 1) % P;
    await redis.xadd(keys.partition(other).scores, '*', ...encodeEntry(scoreUpdate('hist-x', 99)));
    const h = HistoryPage.parse(await get(`/api/history?topic=strategy:hist-x&from=${t0}`));
    expect(h.points.map((p) => p.data).map((d) => ('id' in d ? d.id : ''))).toEqual(
      Array.from({ length: 10 }, (_, i) => `hist-x-${i}`),
    );
    expect(new Set(h.points.map((p) => p.part))).toEqual(new Set([home]));

    const hosts = ['h-a', 'h-b', 'h-c', 'h-d', 'h-e', 'h-f'];
    const written: string[] = [];
    for (let i = 0; i < 30; i++) {
      const s = systemSample(hosts[i % hosts.length]!, i);
      await feed.system(s);
      written.push(`${s.host}:${s.cpu}`);
    }
    const sys = HistoryPage.parse(await get(`/api/history?topic=system&from=${t0}`));
    expect(new Set(sys.points.map((p) => p.part)).size).toBeGreaterThan(1);
    const got = sys.points.map((p) => ('host' in p.data ? `${p.data.host}:${p.data.cpu}` : ''));
    expect(got.sort()).toEqual([...written].sort());
    // Oldest first, across partitions.
    const ms = sys.points.map((p) => Number(p.pos.split('-')[0]));
    expect([...ms].sort((a, b) => a - b)).toEqual(ms);
    const thin = HistoryPage.parse(await get(`/api/history?topic=system&from=${t0}&limit=7`));
    expect(thin.points).toHaveLength(7);
    expect(thin.truncated).toBe(true);
    expect(thin.points.at(-1)).toEqual(sys.points.at(-1));
  });

  it('loads latest scores and open incidents from every partition, latest system samples from the global hash', async () => {
    const fresh = keysFor(uniquePrefix('gwp-load'));
    const strategies = ['l-a', 'l-b', 'l-c', 'l-d', 'l-e', 'l-f', 'l-g', 'l-h'];
    for (const id of strategies) {
      await redis.hset(
        fresh.partition(partitionOf(id, P)).latestScores,
        id,
        JSON.stringify(scoreUpdate(id, 1)),
      );
    }
    const firing = alertEvent(300, { incidentId: 'load-open' });
    await redis.hset(
      fresh.partition(feed.partOfAlert(firing)).incidents,
      'r|s',
      JSON.stringify({ firing, jobEnqueued: true } satisfies Incident),
    );
    await redis.hset(fresh.latestSystem, 'h-1', JSON.stringify(systemSample('h-1', 1)));
    const s = new GatewayState(P);
    await loadState(redis, fresh, s, createLogger('test', 'silent'));
    const summary = s.summary(0);
    expect(summary.strategies.map((u) => u.strategy)).toEqual(strategies);
    expect(summary.activeAlerts.map((a) => a.incidentId)).toEqual(['load-open']);
    expect(summary.system.map((x) => x.host)).toEqual(['h-1']);
  });

  it('refuses to start (exit 78) with a partition count other than the pipeline has', async () => {
    // The pipeline of `prefix` is fixed at 4 by the first process that starts.
    await redis.set(keys.partitionCount, String(P), 'NX');
    const proc = spawn(process.execPath, ['--import', 'tsx', 'services/gateway/src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        REDIS_URL: redisServer.url,
        QUANTMON_PREFIX: prefix,
        PARTITIONS: '3',
        GATEWAY_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    expect(code).toBe(78);
    expect(err).toMatch(/created with PARTITIONS=4/);
    expect(err).toMatch(/this process has PARTITIONS=3/);
  });
});
