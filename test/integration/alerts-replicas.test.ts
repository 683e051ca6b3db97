import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AlertEvent,
  createLogger,
  FencedError,
  GROUPS,
  partitionOf,
  type Lease,
} from '@quantmon/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlerterCore } from '../../services/alerter/src/alerter-core.js';
import { incidentKey } from '../../services/alerter/src/incident.js';
import { writeTransitions, type FencedTarget } from '../../services/alerter/src/incident-store.js';
import { compileRules } from '../../services/alerter/src/rules.js';
import { scoreInput } from '../../services/alerter/src/testing-inputs.js';
import {
  eventually,
  startService,
  startServices,
  type RunningService,
} from '../helpers/services.js';
import { groupState, readEntries, waitPartitionsDrained } from '../helpers/streams.js';
import {
  alertEvents,
  alertsFixture,
  allPartitionKeys,
  emergencyWorker,
  incidentCount,
  leaseHolders,
  metric,
  ownedPartitions,
  pushScore,
  replicaOf,
  sleep,
  startAlerter,
  waitGroups,
  type AlertsFixture,
} from './alerts-helpers.js';

/**
 * Alerter replicas started with identical settings (as `docker compose up
 * --scale alerter=2` starts them) share the partitions through leases: each
 * partition has one active alerter, so every incident and every emergency
 * job exists once; a SIGKILLed replica's partitions move to the survivor
 * within 10 s, and a replica that joins takes its share, with nothing lost
 * or doubled. The incident writes are compare-and-set and fenced besides: a
 * replica that lost a partition's lease can write nothing for it.
 */
// Many partitions: a join or a death moves eight at once (the default pipeline has 8).
const P = 16;
const TAKEOVER_LIMIT_MS = 10_000;
/** These tests cycle VaR breach and recovery: a calm sample resolves at once. */
const PROMPT_RESOLVE = { var_exceeded: { keepFiringFor: 0 } };

/** Two strategy ids per partition, `[p0 first, p0 second, p1 first, ...]`. */
function strategiesPerPartition(partitions: number, perPartition: number): string[] {
  const byPartition: string[][] = Array.from({ length: partitions }, () => []);
  for (let i = 0; byPartition.some((l) => l.length < perPartition); i++) {
    const id = `rep-${i}`;
    const list = byPartition[partitionOf(id, partitions)]!;
    if (list.length < perPartition) list.push(id);
  }
  return byPartition.flat();
}

const firingCount = (svc: RunningService): Promise<number> =>
  metric(svc, 'quantmon_alert_events_total', 'state="firing"');

const varEvents = async (f: AlertsFixture): Promise<AlertEvent[]> =>
  (await alertEvents(f)).filter((e) => e.rule === 'var_exceeded');

/** Wait until exactly these replicas hold every partition between them, each at least one. */
async function waitShared(f: AlertsFixture, replicas: RunningService[]): Promise<string[]> {
  const ids = await Promise.all(replicas.map(replicaOf));
  return eventually(
    async () => {
      const holders = await leaseHolders(f);
      const owned = await Promise.all(replicas.map(ownedPartitions));
      const byLease = ids.map((id) => holders.filter((h) => h === id).length);
      const shared =
        holders.every((h) => h !== undefined && ids.includes(h)) &&
        owned.every((n, i) => n > 0 && n === byLease[i]);
      return shared ? (holders as string[]) : undefined;
    },
    20_000,
    `${replicas.length} replicas sharing the ${f.partitions} partitions`,
  );
}

describe('alerter replicas', () => {
  let f: AlertsFixture;
  let worker: ReturnType<typeof emergencyWorker>;
  let dir: string | undefined;
  const running: RunningService[] = [];

  beforeAll(async () => {
    f = await alertsFixture('replicas', { partitions: P });
    dir = mkdtempSync(join(tmpdir(), 'quantmon-replicas-'));
    // Breach-and-recover cycles: each calm sample resolves (no keepFiringFor, default 2 minutes).
    f.env['RULES_FILE'] = join(dir, 'rules.json');
    writeFileSync(f.env['RULES_FILE'], JSON.stringify({ rules: PROMPT_RESOLVE }));
    worker = emergencyWorker(f);
  });
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    const codes = await Promise.all(running.map((s) => s.stop()));
    await worker?.worker.close();
    f?.redis.disconnect();
    await f?.server.dispose();
    expect(codes.every((c) => c === 0)).toBe(true);
  });

  it('shares the partitions between two replicas with identical settings: one incident and one job each, and the survivor takes a SIGKILLed replica’s partitions within 10 s', async () => {
    // Identical environments: the default lease TTL, no replica id set.
    const [a, b] = (await startServices([
      { name: 'alerter', env: f.env },
      { name: 'alerter', env: f.env },
    ])) as [RunningService, RunningService];
    running.push(a, b);
    await waitGroups(f);
    const holders = await waitShared(f, [a, b]);
    const [idA, idB] = await Promise.all([replicaOf(a), replicaOf(b)]);
    expect(idA).not.toBe(idB);

    const strategies = strategiesPerPartition(P, 2);
    const ownerOf = (s: string): string => holders[partitionOf(s, P)]!;
    const ofA = strategies.filter((s) => ownerOf(s) === idA);
    expect(ofA.length).toBeGreaterThan(0);
    expect(ofA.length).toBeLessThan(strategies.length);

    for (let round = 0; round < 3; round++) {
      await Promise.all(strategies.map((s) => pushScore(f, s, { valueAtRisk: -0.3 })));
    }
    const firing = await eventually(
      async () => {
        const ev = await varEvents(f);
        return ev.length >= strategies.length ? ev : undefined;
      },
      15_000,
      `${strategies.length} incidents`,
    );
    await eventually(
      () => (worker.jobs.length >= strategies.length ? true : undefined),
      15_000,
      `${strategies.length} jobs`,
    );
    expect(firing.every((e) => e.state === 'firing')).toBe(true);
    // Each replica opened the incidents of its own partitions, and only those.
    expect(await firingCount(a)).toBe(ofA.length);
    expect(await firingCount(b)).toBe(strategies.length - ofA.length);

    // A dies without a word, its partitions still leased to it. Scores keep coming meanwhile:
    // all still breaching (nothing new), half recover and breach again (one new incident each).
    const killedAt = Date.now();
    await a.kill();
    running.splice(running.indexOf(a), 1);
    await Promise.all(strategies.map((s) => pushScore(f, s, { valueAtRisk: -0.3 })));
    const half = strategies.filter((_, i) => i % 2 === 0); // one per partition
    await Promise.all(half.map((s) => pushScore(f, s, { valueAtRisk: -0.01 })));
    await Promise.all(half.map((s) => pushScore(f, s, { valueAtRisk: -0.3 })));

    await eventually(
      async () => {
        const held = await leaseHolders(f);
        return (await ownedPartitions(b)) === P && held.every((h) => h === idB) ? true : undefined;
      },
      TAKEOVER_LIMIT_MS + 5000,
      'the survivor holding every partition',
    );
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(TAKEOVER_LIMIT_MS);

    const expected = strategies.length + 2 * half.length;
    await eventually(
      async () => ((await varEvents(f)).length >= expected ? true : undefined),
      15_000,
      `${expected} events`,
    );
    await eventually(
      () => (worker.jobs.length >= strategies.length + half.length ? true : undefined),
      15_000,
      `${strategies.length + half.length} jobs`,
    );
    await waitPartitionsDrained(f.redis, f.keys, P, 'scores', GROUPS.alerter);
    await sleep(500); // anything doubled would show by now

    const after = await varEvents(f);
    expect(after).toHaveLength(expected);
    const firings = after.filter((e) => e.state === 'firing');
    expect(firings).toHaveLength(strategies.length + half.length);
    expect(new Set(firings.map((e) => e.incidentId)).size).toBe(firings.length);
    for (const s of strategies) {
      const states = after.filter((e) => e.subject === `strategy/${s}`).map((e) => e.state);
      expect(states, s).toEqual(half.includes(s) ? ['firing', 'resolved', 'firing'] : ['firing']);
    }
    // Every event in its strategy's partition, every incident open once, in its partition.
    for (const pk of allPartitionKeys(f)) {
      const own = strategies
        .filter((s) => partitionOf(s, P) === pk.partition)
        .map((s) => incidentKey('var_exceeded', `strategy/${s}`));
      expect((await f.redis.hkeys(pk.incidents)).sort()).toEqual(own.sort());
      const subjects = (await readEntries(f.redis, pk.alerts, AlertEvent)).map(
        (e) => e.value.subject,
      );
      expect(subjects.every((x) => own.some((k) => k.endsWith(`|${x}`)))).toBe(true);
    }
    expect(await incidentCount(f)).toBe(strategies.length);
    // One job per incident, the dead replica's half included.
    const jobIds = worker.jobs.map((j) => j.id);
    expect(jobIds).toHaveLength(firings.length);
    expect(new Set(jobIds)).toEqual(new Set(firings.map((e) => e.incidentId)));
    // The survivor did the dead replica's share after the takeover.
    expect(await firingCount(b)).toBe(strategies.length - ofA.length + half.length);
  });

  it('gives a replica that joins its share within 10 s while alerts keep flowing, nothing lost or doubled', async () => {
    const g = await alertsFixture('replicas-join', { server: f.server, partitions: P });
    g.env['RULES_FILE'] = f.env['RULES_FILE']!;
    const jobs = emergencyWorker(g);
    try {
      const a = await startAlerter(g);
      running.push(a);
      const strategies = strategiesPerPartition(P, 1);
      // Breach and recover, cycle after cycle, until the newcomer holds its share and a bit more.
      let cycles = 0;
      let stopAfter = Number.POSITIVE_INFINITY;
      const pushing = (async () => {
        while (cycles < stopAfter) {
          await Promise.all(strategies.map((s) => pushScore(g, s, { valueAtRisk: -0.3 })));
          await Promise.all(strategies.map((s) => pushScore(g, s, { valueAtRisk: -0.01 })));
          cycles++;
          await sleep(300);
        }
      })();
      await eventually(() => (cycles >= 2 ? true : undefined), 10_000, 'two cycles before');
      const b = await startService('alerter', g.env);
      running.push(b);
      const joinedAt = Date.now();
      await waitShared(g, [a, b]);
      expect(Date.now() - joinedAt).toBeLessThan(TAKEOVER_LIMIT_MS);
      stopAfter = cycles + 3;
      await pushing;

      const expected = cycles * strategies.length;
      await eventually(
        async () => ((await varEvents(g)).length >= 2 * expected ? true : undefined),
        20_000,
        `${2 * expected} events`,
      );
      await eventually(
        () => (jobs.jobs.length >= expected ? true : undefined),
        20_000,
        `${expected} jobs`,
      );
      await waitPartitionsDrained(g.redis, g.keys, P, 'scores', GROUPS.alerter);
      await sleep(500);
      const events = await varEvents(g);
      const cycle = ['firing', 'resolved'];
      for (const s of strategies) {
        const states = events.filter((e) => e.subject === `strategy/${s}`).map((e) => e.state);
        expect(states, s).toEqual(Array.from({ length: cycles }, () => cycle).flat());
      }
      const firings = events.filter((e) => e.state === 'firing').map((e) => e.incidentId);
      expect(new Set(firings).size).toBe(expected);
      expect(jobs.jobs).toHaveLength(expected);
      expect(new Set(jobs.jobs.map((j) => j.id))).toEqual(new Set(firings));
      expect(await incidentCount(g)).toBe(0);
      // Both did part of the work.
      expect(await firingCount(a)).toBeGreaterThan(0);
      expect(await firingCount(b)).toBeGreaterThan(0);
    } finally {
      await jobs.worker.close();
      g.redis.disconnect();
    }
  });

  describe('incident writes', () => {
    const log = createLogger('test', 'silent');
    const rules = compileRules({ rules: PROMPT_RESOLVE }, 0);

    /** Hold partition 0's alerter lease with `token` (`<replica>#<epoch>`), as a grant does. */
    async function holdLease(g: AlertsFixture, token: string): Promise<FencedTarget> {
      const pk = g.keys.partition(0);
      await g.redis.set(pk.lease('alerter'), token);
      const lease: Lease = {
        partition: 0,
        token,
        epoch: Number(token.slice(token.lastIndexOf('#') + 1)),
        signal: new AbortController().signal,
        lost: () => undefined,
      };
      return { pk, lease, group: GROUPS.alerter };
    }

    it('lets a second engine adopt the incident the first opened (compare-and-set)', async () => {
      const g = await alertsFixture('cas', { server: f.server });
      const target = await holdLease(g, 'replica-1#1');
      const t = Date.now();
      const one = new AlerterCore(rules, 1, new Map(), new Map(), t);
      const two = new AlerterCore(rules, 1, new Map(), new Map(), t);
      // Both see a breach (different entries) and both try to open.
      const opened = one.observe(scoreInput('x', { valueAtRisk: -0.3 }), `${t}-1`, t);
      const raced = two.observe(scoreInput('x', { valueAtRisk: -0.3 }), `${t}-2`, t);
      expect(await writeTransitions(g.redis, target, opened, log)).toEqual([]);
      const conflicts = await writeTransitions(g.redis, target, raced, log);
      expect(conflicts).toHaveLength(1);
      expect(conflicts[0]?.current?.firing.incidentId).toBe(opened[0]?.event?.incidentId);
      two.adopt(conflicts[0]!.transition.key, conflicts[0]!.current);

      // The first resolves it; the second, stale, tries to resolve it too: pre-empted, adopts "none".
      await writeTransitions(
        g.redis,
        target,
        one.observe(scoreInput('x', { valueAtRisk: -0.01 }), `${t + 1}-0`, t + 1),
        log,
      );
      const stale = two.observe(scoreInput('x', { valueAtRisk: -0.01 }), `${t + 1}-1`, t + 1);
      const c2 = await writeTransitions(g.redis, target, stale, log);
      expect(c2.map((c) => c.current)).toEqual([undefined]);
      two.adopt(c2[0]!.transition.key, undefined);
      expect(two.incidents.size).toBe(0);
      expect((await alertEvents(g)).map((e) => e.state)).toEqual(['firing', 'resolved']);
      g.redis.disconnect();
    });

    it('refuses every write of a replica whose lease moved on, its group position included (fenced)', async () => {
      const g = await alertsFixture('fenced', { server: f.server });
      const pk = g.keys.partition(0);
      await g.redis.xgroup('CREATE', pk.scores, GROUPS.alerter, '$', 'MKSTREAM');
      const entry = await pushScore(g, 'x', { valueAtRisk: -0.3 });
      const position = { key: pk.scores, from: '0-0', id: entry, read: 1 };
      const t = Date.now();
      const opened = new AlerterCore(rules, 1, new Map(), new Map(), t).observe(
        scoreInput('x', { valueAtRisk: -0.3 }),
        entry,
        t,
      );
      expect(opened).toHaveLength(1);

      // A paused replica's lease expired and was granted to another replica (the next epoch).
      const paused = await holdLease(g, 'replica-old#1');
      const owner = await holdLease(g, 'replica-new#2');
      await expect(writeTransitions(g.redis, paused, opened, log, [position])).rejects.toThrow(
        FencedError,
      );
      expect(await g.redis.hlen(pk.incidents)).toBe(0);
      expect(await g.redis.xlen(pk.alerts)).toBe(0);
      expect((await groupState(g.redis, pk.scores, GROUPS.alerter))?.lastDeliveredId).toBe('0-0');

      // The owner's write goes through with its position; re-sent (its reply lost), it is not
      // written twice.
      expect(await writeTransitions(g.redis, owner, opened, log, [position])).toEqual([]);
      expect(await writeTransitions(g.redis, owner, opened, log, [position])).toEqual([]);
      expect(await g.redis.hlen(pk.incidents)).toBe(1);
      expect((await alertEvents(g)).map((e) => e.state)).toEqual(['firing']);
      expect((await groupState(g.redis, pk.scores, GROUPS.alerter))?.lastDeliveredId).toBe(entry);
      g.redis.disconnect();
    });
  });
});
