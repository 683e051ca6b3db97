import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type RunningService } from '../helpers/services.js';
import { readDeadLetters } from '../helpers/streams.js';
import {
  alertEvents,
  alertsFixture,
  emergencyWorker,
  eventsFor,
  incidentCount,
  metric,
  partitionKeys,
  pushScore,
  sleep,
  startAlerter,
  waitEvent,
  type AlertsFixture,
} from './alerts-helpers.js';

/** Bad input and a Redis outage: dead-lettered and counted; paused and resumed, nothing lost or doubled. */
describe('alerter resilience', () => {
  let f: AlertsFixture;
  let alerter: RunningService;
  let worker: ReturnType<typeof emergencyWorker>;
  let dir: string | undefined;

  beforeAll(async () => {
    // Four partitions: a malformed command is read by four groups and dead-lettered once.
    f = await alertsFixture('resilience', { partitions: 4 });
    dir = mkdtempSync(join(tmpdir(), 'quantmon-resilience-'));
    // A second incident after the outage needs the first resolved by one calm sample:
    // no keepFiringFor (default 2 minutes).
    const rules = join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify({ rules: { var_exceeded: { keepFiringFor: 0 } } }));
    alerter = await startAlerter(f, { RULES_FILE: rules });
    worker = emergencyWorker(f);
  });
  afterAll(async () => {
    const code = await alerter?.stop();
    await worker?.worker.close();
    f?.redis.disconnect();
    await f?.server.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('dead-letters and counts malformed entries without stopping', async () => {
    const pk = partitionKeys(f, 'after-bad');
    const badScore = await f.redis.xadd(pk.scores, '*', 'd', '{"strategy": "broken"');
    const badHost = await f.redis.xadd(
      pk.systemSamples,
      '*',
      'd',
      JSON.stringify({ host: 'h', cpu: 'hot' }),
    );
    const badCommand = await f.redis.xadd(
      f.keys.alertCommands,
      '*',
      'd',
      JSON.stringify({ type: 'ack' }),
    );
    await pushScore(f, 'after-bad', { valueAtRisk: -0.3 });
    await waitEvent(f, (e) => e.subject === 'strategy/after-bad', 'alert after bad entries');
    const dead = await eventually(
      async () => {
        const d = await readDeadLetters(f.redis, f.keys.deadLetter);
        return d.length >= 3 ? d : undefined;
      },
      5000,
      'three dead letters',
    );
    // Each with its source stream and entry id: exactly these three, once each.
    expect(dead.map((d) => `${d['stream']} ${d['id']}`).sort()).toEqual(
      [
        `${pk.scores} ${badScore}`,
        `${pk.systemSamples} ${badHost}`,
        `${f.keys.alertCommands} ${badCommand}`,
      ].sort(),
    );
    // Counted per source stream, as before partitions.
    expect(await metric(alerter, 'quantmon_dead_letter_total', 'stream="scores"')).toBe(1);
    expect(await metric(alerter, 'quantmon_dead_letter_total', 'stream="system-samples"')).toBe(1);
    expect(await metric(alerter, 'quantmon_dead_letter_total', 'stream="alert-commands"')).toBe(1);
  });

  it('pauses through a Redis outage and resumes without losing or doubling an incident', async () => {
    if (f.server.kind === 'external') return; // an external Redis cannot be stopped
    await pushScore(f, 'outage', { valueAtRisk: -0.3 });
    const firing = await waitEvent(f, (e) => e.subject === 'strategy/outage', 'firing before');
    await eventually(() => worker.jobs.find((j) => j.id === firing.incidentId), 10_000, 'job');

    // Entries written just before the stop may be in flight when Redis goes away.
    await pushScore(f, 'outage', { valueAtRisk: -0.31 });
    await pushScore(f, 'outage-2', { valueAtRisk: -0.3 });
    await f.server.stop();
    await sleep(1500);
    await f.server.start();

    await pushScore(f, 'outage', { valueAtRisk: -0.32 });
    await pushScore(f, 'outage', { valueAtRisk: -0.01 });
    await pushScore(f, 'outage', { valueAtRisk: -0.3 });
    const second = await waitEvent(
      f,
      (e) =>
        e.subject === 'strategy/outage' &&
        e.state === 'firing' &&
        e.incidentId !== firing.incidentId,
      'second incident after the outage',
      30_000,
    );
    const o2 = await waitEvent(f, (e) => e.subject === 'strategy/outage-2', 'outage-2', 30_000);
    // A job the worker took as Redis stopped (its reply lost) stays active
    // under the worker's lock until a stall check frees it: ~15 s at most
    // with the emergency worker's lock settings (BullMQ's own: up to 60 s).
    const owed = [firing.incidentId, second.incidentId, o2.incidentId];
    const have = (): string[] => worker.jobs.map((j) => j.id ?? '?');
    await eventually(
      () => (worker.jobs.length >= 4 && owed.every((id) => have().includes(id)) ? true : undefined),
      30_000,
      () => `jobs after the outage: have [${have().join(', ')}], owed [${owed.join(', ')}]`,
    );
    await sleep(500);
    const events = await alertEvents(f);
    expect(eventsFor(events, 'var_exceeded', 'strategy/outage').map((e) => e.state)).toEqual([
      'firing',
      'resolved',
      'firing',
    ]);
    expect(eventsFor(events, 'var_exceeded', 'strategy/outage-2')).toEqual([o2]);
    const ids = worker.jobs.map((j) => j.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain(o2.incidentId);
    expect(await incidentCount(f)).toBe(3); // after-bad, outage (second), outage-2
  });
});
