import { createLogger } from '@quantmon/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlerterCore } from '../../services/alerter/src/alerter-core.js';
import { writeTransitions } from '../../services/alerter/src/incident-store.js';
import { compileRules } from '../../services/alerter/src/rules.js';
import { scoreInput } from '../../services/alerter/src/testing-inputs.js';
import { eventually, startService, type RunningService } from '../helpers/services.js';
import {
  alertEvents,
  alertsFixture,
  emergencyWorker,
  isLeader,
  pushScore,
  sleep,
  waitGroups,
  type AlertsFixture,
} from './alerts-helpers.js';

/**
 * Two alerter processes on the same streams and group (different consumer
 * names): one leads, the other stands by and takes over when the leader
 * dies; every incident and job exists once. The incident writes are
 * compare-and-set besides, so even two leaders at once never double one.
 */
describe('alerter replicas', () => {
  let f: AlertsFixture;
  let worker: ReturnType<typeof emergencyWorker>;
  const running: RunningService[] = [];

  beforeAll(async () => {
    f = await alertsFixture('replicas');
    worker = emergencyWorker(f);
  });
  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop()));
    await worker?.worker.close();
    f?.redis.disconnect();
    await f?.server.dispose();
  });

  it('runs one active alerter of two: one incident and one job each, and a standby that takes over', async () => {
    const env = { ALERTER_LEADER_TTL_MS: '1000', ALERTER_CLAIM_IDLE_MS: '1000' };
    const a = await startService('alerter', { ...f.env, ...env, ALERTER_CONSUMER: 'alerter-a' });
    const b = await startService('alerter', { ...f.env, ...env, ALERTER_CONSUMER: 'alerter-b' });
    running.push(a, b);
    await waitGroups(f);
    const leader = await eventually(
      async () => {
        const [la, lb] = await Promise.all([isLeader(a), isLeader(b)]);
        return la !== lb ? (la ? a : b) : undefined;
      },
      10_000,
      'exactly one leader',
    );
    const standby = leader === a ? b : a;

    const strategies = Array.from({ length: 20 }, (_, i) => `rep-${i}`);
    for (let round = 0; round < 3; round++) {
      await Promise.all(strategies.map((s) => pushScore(f, s, { valueAtRisk: -0.3 })));
    }
    const firing = await eventually(
      async () => {
        const ev = (await alertEvents(f)).filter((e) => e.rule === 'var_exceeded');
        return ev.length >= 20 ? ev : undefined;
      },
      10_000,
      '20 incidents',
    );
    await eventually(() => (worker.jobs.length >= 20 ? true : undefined), 10_000, '20 jobs');

    // The leader dies without a word; the standby takes over within seconds.
    const killedAt = Date.now();
    await leader.kill();
    running.splice(running.indexOf(leader), 1);
    await eventually(
      async () => ((await isLeader(standby)) ? true : undefined),
      10_000,
      'takeover',
    );
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(5000);

    // Still breaching: nothing new. Half recover and breach again: one new incident and job each.
    await Promise.all(strategies.map((s) => pushScore(f, s, { valueAtRisk: -0.3 })));
    const half = strategies.slice(0, 10);
    await Promise.all(half.map((s) => pushScore(f, s, { valueAtRisk: -0.01 })));
    await Promise.all(half.map((s) => pushScore(f, s, { valueAtRisk: -0.3 })));
    const all = await eventually(
      async () => {
        const ev = (await alertEvents(f)).filter((e) => e.rule === 'var_exceeded');
        return ev.length >= 40 ? ev : undefined;
      },
      15_000,
      '40 events',
    );
    await eventually(() => (worker.jobs.length >= 30 ? true : undefined), 10_000, '30 jobs');
    await sleep(500);
    const after = (await alertEvents(f)).filter((e) => e.rule === 'var_exceeded');
    expect(after).toHaveLength(40);
    expect(all.filter((e) => e.state === 'firing')).toHaveLength(30);
    expect(new Set(after.filter((e) => e.state === 'firing').map((e) => e.incidentId)).size).toBe(
      30,
    );
    for (const s of strategies.slice(10)) {
      expect(after.filter((e) => e.subject === `strategy/${s}`).map((e) => e.state)).toEqual([
        'firing',
      ]);
    }
    expect(firing.every((e) => e.state === 'firing')).toBe(true);
    expect(worker.jobs).toHaveLength(30);
    expect(new Set(worker.jobs.map((j) => j.id)).size).toBe(30);
  });

  it('lets a second alerter adopt the incident the first opened (compare-and-set)', async () => {
    const g = await alertsFixture('cas', f.server);
    const log = createLogger('test', 'silent');
    const rules = compileRules({}, 0);
    const t = Date.now();
    const one = new AlerterCore(rules, 1, new Map(), new Map(), t);
    const two = new AlerterCore(rules, 1, new Map(), new Map(), t);
    // Both see a breach (different entries) and both try to open.
    const opened = one.observe(scoreInput('x', { valueAtRisk: -0.3 }), `${t}-1`, t);
    const raced = two.observe(scoreInput('x', { valueAtRisk: -0.3 }), `${t}-2`, t);
    expect(await writeTransitions(g.redis, g.keys, opened, log)).toEqual([]);
    const conflicts = await writeTransitions(g.redis, g.keys, raced, log);
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]?.current?.firing.incidentId).toBe(opened[0]?.event?.incidentId);
    two.adopt(conflicts[0]!.transition.key, conflicts[0]!.current);

    // The first resolves it; the second, stale, tries to resolve it too: pre-empted, adopts "none".
    await writeTransitions(
      g.redis,
      g.keys,
      one.observe(scoreInput('x', { valueAtRisk: -0.01 }), `${t + 1}-0`, t + 1),
      log,
    );
    const stale = two.observe(scoreInput('x', { valueAtRisk: -0.01 }), `${t + 1}-1`, t + 1);
    const c2 = await writeTransitions(g.redis, g.keys, stale, log);
    expect(c2.map((c) => c.current)).toEqual([undefined]);
    two.adopt(c2[0]!.transition.key, undefined);
    expect(two.incidents.size).toBe(0);
    expect((await alertEvents(g)).map((e) => e.state)).toEqual(['firing', 'resolved']);
    g.redis.disconnect();
  });
});
