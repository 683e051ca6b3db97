import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AlertsResponse,
  createLogger,
  createRegistry,
  closeHttpServer,
  GROUPS,
  listeningPort,
  SilencesResponse,
  startHttpServer,
  type AlertEvent,
} from '@quantmon/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRoutes } from '../../services/gateway/src/alert-routes.js';
import { apiAuthRoute } from '../../services/gateway/src/auth.js';
import { eventually, type RunningService } from '../helpers/services.js';
import { groupState } from '../helpers/streams.js';
import {
  alertEvents,
  alertsFixture,
  emergencyWorker,
  pushScore,
  sleep,
  startAlerter,
  waitEvent,
  type AlertsFixture,
} from './alerts-helpers.js';
import { WebhookReceiver } from './alerts-webhook-receiver.js';

/**
 * Acknowledge, silence and history through the gateway's alert routes
 * (served in-process here) and a real alerter, BullMQ Worker and webhook.
 */
describe('alert acknowledgement, silences and history', () => {
  let f: AlertsFixture;
  let alerter: RunningService;
  let http: Server;
  let base: string;
  /** The same routes behind token auth: named tokens and a bare one. */
  let authHttp: Server;
  let authBase: string;
  let worker: ReturnType<typeof emergencyWorker>;
  let hook: WebhookReceiver;
  let dir: string | undefined;

  beforeAll(async () => {
    // Four partitions: an ack must reach the partition holding its incident, a silence every one.
    f = await alertsFixture('acks', { partitions: 4 });
    dir = mkdtempSync(join(tmpdir(), 'quantmon-acks-'));
    // Sharpe judged from the first observation, whatever the default's minimum; VaR resolved
    // by one calm sample (no keepFiringFor, default 2 minutes). No inhibition: the history
    // test counts a Sharpe warning and VaR critical on one strategy, which the default
    // inhibition would mute and then release (one more event).
    const rules = join(dir, 'rules.json');
    writeFileSync(
      rules,
      JSON.stringify({
        rules: { sharpe_decline: { minObservations: 1 }, var_exceeded: { keepFiringFor: 0 } },
        inhibit: [],
      }),
    );
    hook = await WebhookReceiver.start();
    alerter = await startAlerter(f, {
      WEBHOOK_URL: hook.url,
      WEBHOOK_BACKOFF_MS: '50',
      RULES_FILE: rules,
    });
    worker = emergencyWorker(f);
    http = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      log: createLogger('test', 'silent'),
      registry: createRegistry('test'),
      health: () => ({}),
      routes: [alertRoutes(f.redis, f.keys)],
    });
    base = `http://127.0.0.1:${listeningPort(http)}`;
    const policy = { tokens: ['desk-a:tok-a', 'desk-b:tok-b', 'bare-token'], allowedOrigins: [] };
    authHttp = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      log: createLogger('test', 'silent'),
      registry: createRegistry('test'),
      health: () => ({}),
      routes: [apiAuthRoute(policy), alertRoutes(f.redis, f.keys)],
    });
    authBase = `http://127.0.0.1:${listeningPort(authHttp)}`;
  });
  afterAll(async () => {
    const code = await alerter?.stop();
    await worker?.worker.close();
    if (http) await closeHttpServer(http);
    if (authHttp) await closeHttpServer(authHttp);
    await hook?.close();
    f?.redis.disconnect();
    await f?.server.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const authed = async (
    token: string | undefined,
    method: string,
    path: string,
    body?: unknown,
  ) => {
    const res = await fetch(`${authBase}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const hooksFor = (id: string) => hook.ok.filter((r) => JSON.stringify(r.json).includes(id));

  /** Wait until every partition's group has taken and acked every command written so far. */
  async function commandsApplied(): Promise<void> {
    const last = (await f.redis.xrevrange(f.keys.alertCommands, '+', '-', 'COUNT', 1))[0]?.[0];
    await eventually(
      async () => {
        for (let p = 0; p < f.partitions; p++) {
          const g = await groupState(f.redis, f.keys.alertCommands, GROUPS.alerterCommands(p));
          if (!g || g.lastDeliveredId !== last || g.pending !== 0) return undefined;
        }
        return true;
      },
      10_000,
      'commands applied on every partition',
    );
  }

  it('acknowledges an open incident: an event with the acknowledgement, and it shows as acknowledged', async () => {
    await pushScore(f, 'acked', { valueAtRisk: -0.3 });
    const firing = await waitEvent(f, (e) => e.subject === 'strategy/acked', 'firing');
    const res = await api('POST', `/api/alerts/${firing.incidentId}/ack`, {
      by: 'alice',
      comment: 'on it',
    });
    expect(res.status).toBe(202);
    const acked = await waitEvent(
      f,
      (e) => e.incidentId === firing.incidentId && e.acknowledged !== undefined,
      'acknowledged event',
    );
    expect(acked).toMatchObject({
      state: 'firing',
      acknowledged: { by: 'alice', comment: 'on it' },
    });
    const list = AlertsResponse.parse((await api('GET', '/api/alerts')).body);
    expect(list.active.find((a) => a.incidentId === firing.incidentId)?.acknowledged?.by).toBe(
      'alice',
    );
    expect((await api('POST', '/api/alerts/nope__x__1-0/ack', {})).status).toBe(404);
    expect((await api('POST', `/api/alerts/${firing.incidentId}/ack`, { by: 5 })).status).toBe(400);
  });

  it('records a silenced incident but enqueues no job and notifies no one until the silence ends', async () => {
    const created = await api('POST', '/api/silences', {
      matchers: [
        { name: 'subject', value: 'strategy/muted-.*', op: '=~' },
        { name: 'rule', value: 'var_exceeded' },
      ],
      durationMs: 600_000,
      createdBy: 'bob',
      comment: 'maintenance',
    });
    expect(created.status).toBe(201);
    const silenceId = created.body['id'] as string;
    await commandsApplied();

    await pushScore(f, 'muted-1', { valueAtRisk: -0.3 });
    await pushScore(f, 'loud', { valueAtRisk: -0.3 });
    const muted = await waitEvent(f, (e) => e.subject === 'strategy/muted-1', 'muted firing');
    expect(muted.silenced?.id).toBe(silenceId);
    const loud = await waitEvent(f, (e) => e.subject === 'strategy/loud', 'loud firing');
    expect(loud.silenced).toBeUndefined();
    // The control incident gets its job and its webhook; the silenced one neither.
    await eventually(() => worker.jobs.find((j) => j.id === loud.incidentId), 10_000, 'loud job');
    await eventually(() => hooksFor(loud.incidentId)[0], 10_000, 'loud webhook');
    await sleep(500);
    expect(worker.jobs.find((j) => j.id === muted.incidentId)).toBeUndefined();
    expect(hooksFor(muted.incidentId)).toEqual([]);

    const listed = SilencesResponse.parse((await api('GET', '/api/silences')).body);
    expect(listed.silences.find((s) => s.id === silenceId)?.status).toBe('active');

    // Expire it: the still-firing incident is now owed its job and notification.
    const del = await api('DELETE', `/api/silences/${silenceId}`);
    expect(del.status).toBe(200);
    expect(del.body['status']).toBe('expired');
    await eventually(() => worker.jobs.find((j) => j.id === muted.incidentId), 10_000, 'muted job');
    await eventually(() => hooksFor(muted.incidentId)[0], 10_000, 'muted webhook');
    expect((await api('DELETE', '/api/silences/s-unknown')).status).toBe(404);
  });

  it('validates silences', async () => {
    const bad = await api('POST', '/api/silences', {
      matchers: [{ name: 'rule', value: '(', op: '=~' }],
      createdBy: 'x',
    });
    expect(bad.status).toBe(400);
    const paths = (bad.body['issues'] as { path: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(['endsAt', 'matchers.0.value']);
  });

  it('answers history by state, level and time range, newest first', async () => {
    const t0 = Date.now();
    await sleep(5);
    await pushScore(f, 'hist', { valueAtRisk: -0.3, sharpeRatio: 0.1 });
    await waitEvent(f, (e) => e.subject === 'strategy/hist' && e.rule === 'sharpe_decline', 'x');
    await waitEvent(f, (e) => e.subject === 'strategy/hist' && e.rule === 'var_exceeded', 'y');
    await pushScore(f, 'hist', { valueAtRisk: -0.01, sharpeRatio: 0.1 });
    await waitEvent(f, (e) => e.subject === 'strategy/hist' && e.state === 'resolved', 'z');

    const get = async (q: string): Promise<AlertEvent[]> => {
      const r = await api('GET', `/api/alerts?${q}`);
      expect(r.status).toBe(200);
      return AlertsResponse.parse(r.body).events;
    };
    const since = await get(`from=${t0}`);
    expect(since.map((e) => `${e.rule}:${e.state}`)).toEqual([
      'var_exceeded:resolved',
      ...(since[1]?.rule === 'var_exceeded'
        ? ['var_exceeded:firing', 'sharpe_decline:firing']
        : ['sharpe_decline:firing', 'var_exceeded:firing']),
    ]);
    expect((await get(`from=${t0}&state=resolved`)).map((e) => e.rule)).toEqual(['var_exceeded']);
    expect((await get(`from=${t0}&level=warning`)).map((e) => e.rule)).toEqual(['sharpe_decline']);
    expect(await get(`to=${t0}&from=${new Date(t0 - 1).toISOString()}`)).toEqual([]);
    expect(await get('limit=1')).toHaveLength(1);
    const all = await alertEvents(f);
    expect((await get('limit=1000')).length).toBe(all.length);
    expect((await api('GET', '/api/alerts?state=burning')).status).toBe(400);
  });

  it('keeps every acknowledgement and records acks and silence changes with the token name that made them', async () => {
    const t0 = Date.now();
    await pushScore(f, 'audited', { valueAtRisk: -0.3 });
    const firing = await waitEvent(f, (e) => e.subject === 'strategy/audited', 'audited firing');
    const ackPath = `/api/alerts/${firing.incidentId}/ack`;
    expect((await authed(undefined, 'POST', ackPath, { by: 'eve' })).status).toBe(401);
    expect((await authed('tok-a', 'POST', ackPath, { by: 'alice' })).status).toBe(202);
    await waitEvent(
      f,
      (e) => e.incidentId === firing.incidentId && e.acknowledged?.by === 'alice',
      'first acknowledgement',
    );
    expect((await authed('tok-b', 'POST', ackPath, { by: 'bob', comment: 'mine' })).status).toBe(
      202,
    );
    const both = await waitEvent(
      f,
      (e) => e.incidentId === firing.incidentId && e.acknowledgements?.length === 2,
      'second acknowledgement',
    );
    expect(both.acknowledged).toMatchObject({ by: 'bob', comment: 'mine', tokenName: 'desk-b' });
    expect(both.acknowledgements?.map((a) => [a.by, a.tokenName])).toEqual([
      ['alice', 'desk-a'],
      ['bob', 'desk-b'],
    ]);

    const silence = { matchers: [{ name: 'subject', value: 'strategy/nobody' }], createdBy: 'x' };
    const deleted = await authed('tok-b', 'POST', '/api/silences', {
      ...silence,
      durationMs: 600_000,
    });
    expect(deleted.status).toBe(201);
    const deletedId = deleted.body['id'] as string;
    expect((await authed('bare-token', 'DELETE', `/api/silences/${deletedId}`)).status).toBe(200);
    const lapsing = await authed('tok-a', 'POST', '/api/silences', {
      ...silence,
      durationMs: 1000,
    });
    const lapsingId = lapsing.body['id'] as string;

    // The audit of the range, newest first; the lapsed silence's expiry is there once it lapsed.
    const audit = await eventually(
      async () => {
        const r = AlertsResponse.parse(
          (await authed('tok-a', 'GET', `/api/alerts?from=${t0}`)).body,
        );
        return r.audit?.some((a) => a.kind === 'silence-expired') ? r.audit : undefined;
      },
      10_000,
      'the lapsed silence in the audit',
    );
    const summary = audit.map((a) =>
      a.kind === 'acknowledged'
        ? [a.kind, a.by, a.incidentId]
        : [a.kind, a.by, 'silence' in a ? a.silence.id : 'version' in a ? a.version : a.strategy],
    );
    expect(summary).toEqual([
      ['silence-expired', 'system', lapsingId],
      ['silence-created', 'desk-a', lapsingId],
      ['silence-deleted', 'anonymous', deletedId],
      ['silence-created', 'desk-b', deletedId],
      ['acknowledged', 'desk-b', firing.incidentId],
      ['acknowledged', 'desk-a', firing.incidentId],
    ]);
  });
});
