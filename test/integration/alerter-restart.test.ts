import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AlertEvent,
  createRedis,
  EMERGENCY_QUEUE,
  EmergencyJobData,
  GROUPS,
  Incident,
  keysFor,
  type PartitionKeys,
} from '@quantmon/shared';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { incidentId, incidentKey } from '../../services/alerter/src/incident.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { scoreUpdate, systemSample } from '../helpers/score-fixtures.js';
import { eventually, startService, type RunningService } from '../helpers/services.js';
import { readEntries, until, waitDrained, waitForGroup, writeEntries } from '../helpers/streams.js';
import { ownedPartitions } from './alerts-helpers.js';

/**
 * A real alerter process fed score updates and host samples written straight
 * to its streams, with a real BullMQ Worker taking the emergency jobs. One
 * incident and one job per breach, whatever crashes, restarts and replays.
 * One partition: this suite is about one lane (its streams, group position
 * and incidents hash); alerts-replicas.test.ts covers several.
 */
describe('alerter incidents and emergency jobs across restarts', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let queue: Queue;
  let worker: Worker;
  const jobs: Job<EmergencyJobData>[] = [];
  const bullPrefix = uniquePrefix('alerter-bull');
  let alerter: RunningService | undefined;
  let dir: string;
  let rulesFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quantmon-alerter-restart-'));
    rulesFile = join(dir, 'rules.json');
    // error_rate_high on the crossing sample: no `for`, no minimum volume, no start-up grace;
    // var_exceeded resolved by one calm sample: no keepFiringFor (default 2 minutes).
    writeFileSync(
      rulesFile,
      JSON.stringify({
        rules: {
          error_rate_high: { for: 0, minVolume: 0, startupGrace: 0 },
          var_exceeded: { keepFiringFor: 0 },
        },
      }),
    );
    redisServer = await startTestRedis();
    redis = createRedis(redisServer.url, 'blocking', 'alerter-test');
    const { hostname, port } = new URL(redisServer.url);
    const connection = { host: hostname, port: Number(port), maxRetriesPerRequest: null };
    queue = new Queue(EMERGENCY_QUEUE, { connection, prefix: bullPrefix });
    worker = new Worker<EmergencyJobData>(
      EMERGENCY_QUEUE,
      async (job) => {
        EmergencyJobData.parse(job.data);
        jobs.push(job);
      },
      { connection, prefix: bullPrefix },
    );
  });
  afterEach(async () => {
    const a = alerter;
    alerter = undefined;
    if (a) expect(await a.stop()).toBe(0);
  });
  afterAll(async () => {
    await worker?.close();
    await queue?.close();
    redis?.disconnect();
    await redisServer?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A new pipeline (its own prefix) of one partition: its keys. */
  interface Lane extends PartitionKeys {
    prefix: string;
  }
  const newLane = (): Lane => {
    const keys = keysFor(uniquePrefix('alerter'));
    return { ...keys.partition(0), prefix: keys.prefix };
  };

  /**
   * Start (or restart) the alerter on a lane and wait until it owns the
   * partition (after a SIGKILL, once the dead one's lease has expired) and
   * its groups exist.
   */
  async function startAlerter(keys: Lane): Promise<RunningService> {
    const svc = await startService('alerter', {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: keys.prefix,
      BULLMQ_PREFIX: bullPrefix,
      PARTITIONS: '1',
      LEASE_TTL_MS: '1000',
      RULES_FILE: rulesFile,
    });
    alerter = svc;
    await until(async () => (await ownedPartitions(svc)) === 1, 'the alerter owning its lane');
    await waitForGroup(redis, keys.scores, GROUPS.alerter);
    await waitForGroup(redis, keys.systemSamples, GROUPS.alerter);
    return svc;
  }
  const alerts = async (keys: PartitionKeys): Promise<AlertEvent[]> =>
    (await readEntries(redis, keys.alerts, AlertEvent)).map((e) => e.value);
  const breaching = (strategy: string, seqs: number[]) =>
    seqs.map((seq) => scoreUpdate(strategy, seq, { valueAtRisk: -0.2 }));
  const jobsFor = (id: string) => jobs.filter((j) => j.id === id);
  const incidentRecord = async (
    keys: PartitionKeys,
    key: string,
  ): Promise<Incident | undefined> => {
    const json = await redis.hget(keys.incidents, key);
    return json === null ? undefined : Incident.parse(JSON.parse(json));
  };

  it('keeps one var_exceeded incident and one risk-reduction job across a SIGKILL, then resolves it', async () => {
    const keys = newLane();
    await startAlerter(keys);
    const first = await writeEntries(redis, keys.scores, breaching('crashy', [1, 2, 3]));
    const id = incidentId('var_exceeded', 'strategy/crashy', first[0]!);

    const [firing] = await eventually(async () => {
      const a = await alerts(keys);
      return a.length > 0 ? a : undefined;
    });
    expect(firing).toMatchObject({
      incidentId: id,
      rule: 'var_exceeded',
      level: 'critical',
      subject: 'strategy/crashy',
      state: 'firing',
      value: 0.2,
      threshold: 0.15,
    });
    const job = await eventually(() => jobsFor(id)[0], 20_000, 'the risk-reduction job');
    expect(job.name).toBe('risk-reduction');
    expect(job.data.alert).toEqual(firing);

    await alerter!.kill();
    await startAlerter(keys);
    await writeEntries(redis, keys.scores, breaching('crashy', [4, 5, 6]));
    await waitDrained(redis, keys.scores, GROUPS.alerter);
    await until(
      async () =>
        (await incidentRecord(keys, incidentKey('var_exceeded', 'strategy/crashy')))
          ?.jobEnqueued === true,
      'the incident marked as enqueued',
    );
    expect(await alerts(keys)).toEqual([firing]);
    expect(jobsFor(id)).toHaveLength(1);
    expect((await queue.getJobs()).filter((j) => j.id === id)).toHaveLength(1);

    await writeEntries(redis, keys.scores, [scoreUpdate('crashy', 7, { valueAtRisk: -0.05 })]);
    const events = await eventually(async () => {
      const a = await alerts(keys);
      return a.length > 1 ? a : undefined;
    });
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ incidentId: id, state: 'resolved', value: 0.05 });
    expect(await redis.hlen(keys.incidents)).toBe(0);
    expect(jobsFor(id)).toHaveLength(1);
  });

  it('never enqueues a second job for an incident once BullMQ has removed the first', async () => {
    const keys = newLane();
    const key = incidentKey('var_exceeded', 'strategy/marked');
    await startAlerter(keys);
    const first = await writeEntries(redis, keys.scores, breaching('marked', [1, 2, 3]));
    const id = incidentId('var_exceeded', 'strategy/marked', first[0]!);
    await until(async () => (await queue.getJobState(id)) === 'completed', 'the job completed');
    await until(async () => (await incidentRecord(keys, key))?.jobEnqueued === true, 'marked');
    const incident = (await incidentRecord(keys, key))!;
    await alerter!.kill();

    // BullMQ forgets the job (removeOnComplete, or by hand): its id no longer dedupes.
    await (await queue.getJob(id))!.remove();
    expect(await queue.getJob(id)).toBeUndefined();

    // 1. A crash between the enqueue and the incident's flag: the outbox retries on start.
    await redis.hset(keys.incidents, key, JSON.stringify({ ...incident, jobEnqueued: false }));
    await startAlerter(keys);
    await until(async () => (await incidentRecord(keys, key))?.jobEnqueued === true, 're-marked');
    expect(await queue.getJob(id)).toBeUndefined();
    await alerter!.kill();

    // 2. Incident state lost and every score entry replayed: same incident id, no new job.
    await redis.del(keys.incidents);
    await redis.xgroup('SETID', keys.scores, GROUPS.alerter, '0');
    await startAlerter(keys);
    await waitDrained(redis, keys.scores, GROUPS.alerter);
    await until(async () => (await incidentRecord(keys, key))?.jobEnqueued === true, 'replayed');
    expect((await incidentRecord(keys, key))?.firing.incidentId).toBe(id);
    expect(await queue.getJob(id)).toBeUndefined();
    expect(jobsFor(id)).toHaveLength(1);
  });

  it('commits the positions of reads that move nothing in a few writes, not one per read, and is drained after', async () => {
    const keys = newLane();
    await startAlerter(keys);
    const setids = async (): Promise<number> => {
      const m = /cmdstat_xgroup\|setid:calls=(\d+)/.exec(await redis.info('commandstats'));
      return Number(m?.[1] ?? 0);
    };
    const before = await setids();
    // 40 calm updates 10 ms apart: each its own read, none moves an incident.
    for (let seq = 1; seq <= 40; seq++) {
      await writeEntries(redis, keys.scores, [scoreUpdate('calm', seq, { valueAtRisk: -0.01 })]);
      await new Promise((r) => setTimeout(r, 10));
    }
    // Committed within POSITION_COMMIT_MS (200 ms) and a tick (1 s) of the last read.
    await waitDrained(redis, keys.scores, GROUPS.alerter, 5_000);
    const commits = await setids();
    // One XGROUP SETID per stream (scores, host samples) per commit: one per read was 80.
    expect(commits - before).toBeGreaterThan(0);
    expect(commits - before).toBeLessThan(30);
    expect(await alerts(keys)).toEqual([]);
  });

  it('raises error_rate_high from a host sample and enqueues one system-check job', async () => {
    const keys = newLane();
    await startAlerter(keys);
    const [entryId] = await writeEntries(redis, keys.systemSamples, [
      systemSample('host-1', { errorRate: 12, cpu: 10 }),
    ]);
    const id = incidentId('error_rate_high', 'host/host-1', entryId!);
    const job = await eventually(() => jobsFor(id)[0], 20_000, 'the system-check job');
    expect(job.name).toBe('system-check');
    expect(job.data.alert).toMatchObject({ rule: 'error_rate_high', level: 'critical', value: 12 });
    const events = await alerts(keys);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ incidentId: id, state: 'firing', subject: 'host/host-1' });
    expect(jobs.filter((j) => j.name === 'system-check')).toHaveLength(1);
  });
});
