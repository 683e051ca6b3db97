import { createLogger, type AlertEvent } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import type { PostableAlert } from './alertmanager-payload.js';
import { Alertmanager, RESOLVED_RETENTION_MS } from './alertmanager.js';

const event = (id: string, extra: Partial<AlertEvent> = {}): AlertEvent => ({
  incidentId: `var_exceeded__strategy-${id}__1-0`,
  rule: 'var_exceeded',
  level: 'critical',
  subject: `strategy/${id}`,
  state: 'firing',
  value: 0.2,
  threshold: 0.15,
  metric: 'valueAtRisk',
  message: `var_exceeded on ${id}`,
  recommendation: '',
  startsAt: 1000,
  endsAt: null,
  ts: 1000,
  ...extra,
});
const resolvedOf = (e: AlertEvent, at: number): AlertEvent => ({
  ...e,
  state: 'resolved',
  endsAt: at,
  message: 'resolved',
});

/** An Alertmanager answering `status()` to each POST, recording what it was sent. */
function fakeAlertmanager(status: () => number = () => 200) {
  const posts: { url: string; alerts: PostableAlert[] }[] = [];
  const outcomes: string[] = [];
  const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
    posts.push({ url: String(url), alerts: JSON.parse(String(init?.body)) as PostableAlert[] });
    return new Response('', { status: status() });
  }) as typeof fetch;
  const am = new Alertmanager({
    config: {
      urls: ['http://am1:9093', 'http://am2:9093'],
      resendMs: 1000,
      timeoutMs: 1000,
      dashboardUrl: undefined,
    },
    log: createLogger('test', 'silent'),
    onPost: (o) => outcomes.push(o),
    fetch: fakeFetch,
  });
  return { am, posts, outcomes, outbox: am.outbox(createLogger('test', 'silent')) };
}

const names = (alerts: PostableAlert[]): string[] =>
  alerts.map(
    (a) =>
      `${a.labels['strategy']}:${a.annotations['summary'] === 'resolved' ? 'resolved' : 'firing'}`,
  );

describe('Alertmanager outbox', () => {
  it('posts a firing alert to every Alertmanager at once, then again each resend period', async () => {
    const { outbox, posts } = fakeAlertmanager();
    const a = event('a');
    outbox.send([a], [], 1000, false);
    await outbox.stop();
    expect(posts.map((p) => p.url)).toEqual([
      'http://am1:9093/api/v2/alerts',
      'http://am2:9093/api/v2/alerts',
    ]);
    outbox.send([a], [], 1500, true); // not due yet
    await outbox.stop();
    expect(posts).toHaveLength(2);
    outbox.send([a], [], 2000, true);
    await outbox.stop();
    expect(posts).toHaveLength(4);
    expect(Date.parse(posts[3]?.alerts[0]?.endsAt ?? '')).toBe(2000 + 4 * 1000);
  });

  it('sends a resolution once, before a new incident of the same alert', async () => {
    const { outbox, posts } = fakeAlertmanager();
    const a = event('a');
    outbox.send([a], [], 1000, false);
    await outbox.stop();
    const next = event('a', { incidentId: 'var_exceeded__strategy-a__2-0', startsAt: 1600 });
    outbox.send([next], [resolvedOf(a, 1500)], 1600, false);
    await outbox.stop();
    expect(posts.slice(2).map((p) => names(p.alerts))).toEqual([
      ['a:resolved', 'a:firing'],
      ['a:resolved', 'a:firing'],
    ]);
    outbox.send([next], [], 2700, true);
    await outbox.stop();
    expect(posts.slice(4).map((p) => names(p.alerts))).toEqual([['a:firing'], ['a:firing']]);
  });

  it('counts a failed post and retries it at the next resend, resolutions included', async () => {
    let answer = 500;
    const { outbox, posts, outcomes } = fakeAlertmanager(() => answer);
    const a = event('a');
    const b = event('b');
    outbox.send([a, b], [], 1000, false);
    await outbox.stop();
    expect(outcomes).toEqual(['error', 'error']);
    outbox.send([a], [resolvedOf(b, 1200)], 1200, false); // before the retry time: nothing posted
    await outbox.stop();
    expect(posts).toHaveLength(2);
    answer = 200;
    outbox.send([a], [], 2000, true);
    await outbox.stop();
    expect(posts.slice(2).map((p) => names(p.alerts))).toEqual([
      ['b:resolved', 'a:firing'],
      ['b:resolved', 'a:firing'],
    ]);
    expect(outcomes.slice(2)).toEqual(['ok', 'ok']);
    outbox.send([a], [], 2100, true); // the resolution was accepted: not sent again
    await outbox.stop();
    expect(posts).toHaveLength(4);
  });

  it('stops re-sending an incident that is no longer firing here (silenced, taken over)', async () => {
    const { outbox, posts } = fakeAlertmanager();
    outbox.send([event('a')], [], 1000, false);
    await outbox.stop();
    outbox.send([], [], 5000, true);
    await outbox.stop();
    expect(posts).toHaveLength(2);
  });

  it('gives up on a resolution it could not deliver for the retention period', async () => {
    const { outbox, posts } = fakeAlertmanager(() => 503);
    outbox.send([], [resolvedOf(event('a'), 1000)], 1000, false);
    await outbox.stop();
    outbox.send([], [], 1000 + RESOLVED_RETENTION_MS + 1, true);
    await outbox.stop();
    expect(posts).toHaveLength(2);
  });

  it('never waits for a slow Alertmanager: one post in flight per Alertmanager', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const posts: string[] = [];
    const am = new Alertmanager({
      config: {
        urls: ['http://slow:9093'],
        resendMs: 10,
        timeoutMs: 1000,
        dashboardUrl: undefined,
      },
      log: createLogger('test', 'silent'),
      fetch: (async (url: string | URL | Request) => {
        posts.push(String(url));
        await gate;
        return new Response('', { status: 200 });
      }) as typeof fetch,
    });
    const outbox = am.outbox(createLogger('test', 'silent'));
    outbox.send([event('a')], [], 1000, false);
    outbox.send([event('a'), event('b')], [], 2000, true);
    expect(posts).toHaveLength(1);
    release();
    await outbox.stop();
  });

  it('gives up a post that gets no answer within the timeout, and counts it', async () => {
    const outcomes: string[] = [];
    const am = new Alertmanager({
      config: { urls: ['http://mute:9093'], resendMs: 10, timeoutMs: 100, dashboardUrl: undefined },
      log: createLogger('test', 'silent'),
      onPost: (o) => outcomes.push(o),
      fetch: ((_url: string | URL | Request, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error));
        })) as typeof fetch,
    });
    const outbox = am.outbox(createLogger('test', 'silent'));
    outbox.send([event('a')], [], 1000, false);
    await outbox.stop();
    expect(outcomes).toEqual(['error']);
  });
});
