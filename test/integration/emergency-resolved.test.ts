import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMERGENCY_QUEUE, EmergencyJobData } from '@quantmon/shared';
import { Queue, type Job, type Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type RunningService } from '../helpers/services.js';
import {
  alertsFixture,
  emergencyWorker,
  pushScore,
  startAlerter,
  waitEvent,
  type AlertsFixture,
} from './alerts-helpers.js';

/**
 * An emergency job whose incident resolves before a worker takes it stays in
 * the queue, and its data gains `resolvedAt` and the resolved event, so the
 * worker decides (docs/alerts.md). A job a worker has already taken is left
 * alone. A real alerter, a real BullMQ queue, no worker until the second test.
 */
describe('emergency jobs whose incident resolves before a worker takes them', () => {
  let f: AlertsFixture;
  let alerter: RunningService;
  let queue: Queue;
  let dir: string;
  let consumer: { worker: Worker; jobs: Job[] } | undefined;

  beforeAll(async () => {
    f = await alertsFixture('emergency-resolved');
    dir = mkdtempSync(join(tmpdir(), 'quantmon-emergency-resolved-'));
    const rules = join(dir, 'rules.json');
    // var_exceeded resolves on the first calm sample (no keepFiringFor).
    writeFileSync(rules, JSON.stringify({ rules: { var_exceeded: { keepFiringFor: 0 } } }));
    alerter = await startAlerter(f, { RULES_FILE: rules, LOG_LEVEL: 'info' });
    queue = new Queue(EMERGENCY_QUEUE, {
      connection: { url: f.server.url, maxRetriesPerRequest: null },
      prefix: f.bullPrefix,
    });
  });

  afterAll(async () => {
    await consumer?.worker.close();
    await queue?.close();
    const code = await alerter?.stop();
    f?.redis.disconnect();
    await f?.server.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('adds resolvedAt and the resolved event to the waiting job, and a worker started later sees them', async () => {
    await pushScore(f, 'er-a', { valueAtRisk: -0.3 });
    const firing = await waitEvent(
      f,
      (e) => e.rule === 'var_exceeded' && e.subject === 'strategy/er-a' && e.state === 'firing',
      'var_exceeded firing on er-a',
    );
    const id = firing.incidentId;
    await eventually(async () => (await queue.getJob(id)) ?? undefined, 10_000, `job ${id}`);
    expect(EmergencyJobData.parse((await queue.getJob(id))?.data).resolvedAt).toBeUndefined();

    await pushScore(f, 'er-a', { valueAtRisk: -0.01 });
    const resolved = await waitEvent(
      f,
      (e) => e.incidentId === id && e.state === 'resolved',
      'var_exceeded resolved on er-a',
    );
    const data = await eventually(
      async () => {
        const job = await queue.getJob(id);
        const d = EmergencyJobData.parse(job?.data);
        return d.resolvedAt === undefined ? undefined : d;
      },
      10_000,
      `resolvedAt on job ${id}\n${alerter.output()}`,
    );
    expect(data.resolvedAt).toBe(resolved.endsAt);
    expect(data.resolved).toEqual(resolved);
    expect(data.alert).toEqual(firing);
    expect(await queue.getJobState(id)).toBe('waiting');

    // A worker that starts afterwards takes the job with its resolvedAt.
    consumer = emergencyWorker(f);
    const taken = await eventually(
      () => consumer?.jobs.find((j) => j.id === id),
      10_000,
      'the worker taking the resolved job',
    );
    const seen = EmergencyJobData.parse(taken.data);
    expect(seen.resolvedAt).toBe(resolved.endsAt);
    expect(seen.resolved?.state).toBe('resolved');
  });

  it('leaves a job a worker has already taken alone when its incident resolves', async () => {
    await pushScore(f, 'er-b', { valueAtRisk: -0.3 });
    const firing = await waitEvent(
      f,
      (e) => e.rule === 'var_exceeded' && e.subject === 'strategy/er-b' && e.state === 'firing',
      'var_exceeded firing on er-b',
    );
    const id = firing.incidentId;
    await eventually(
      async () => ((await queue.getJobState(id)) === 'completed' ? true : undefined),
      10_000,
      `job ${id} completed by the worker`,
    );
    await pushScore(f, 'er-b', { valueAtRisk: -0.01 });
    await waitEvent(f, (e) => e.incidentId === id && e.state === 'resolved', 'er-b resolved');
    // The alerter's own record of its decision is the barrier.
    await eventually(
      () =>
        alerter
          .output()
          .split('\n')
          .some((l) => l.includes(id) && l.includes('"outcome":"taken"'))
          ? true
          : undefined,
      10_000,
      `the alerter leaving job ${id} alone`,
    );
    expect(EmergencyJobData.parse((await queue.getJob(id))?.data).resolvedAt).toBeUndefined();
  });
});
