import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startService, type RunningService } from '../helpers/services.js';
import {
  alertEvents,
  alertsFixture,
  emergencyWorker,
  eventsFor,
  metric,
  pushScore,
  pushSystem,
  sleep,
  startAlerter,
  waitEvent,
  type AlertsFixture,
} from './alerts-helpers.js';

/**
 * Rules against a real alerter process and a real BullMQ Worker: the rules
 * file (validation, overrides, new rules with their own action), `for`,
 * hysteresis under a noisy series, and hot reload.
 */
describe('alert rules', () => {
  let f: AlertsFixture;
  let dir: string;
  const running: RunningService[] = [];
  let worker: ReturnType<typeof emergencyWorker>;

  beforeAll(async () => {
    f = await alertsFixture('rules');
    dir = mkdtempSync(join(tmpdir(), 'quantmon-rules-'));
    worker = emergencyWorker(f);
  });
  afterAll(async () => {
    const codes = await Promise.all(running.map((s) => s.stop()));
    await worker?.worker.close();
    f?.redis.disconnect();
    await f?.server.dispose();
    rmSync(dir, { recursive: true, force: true });
    expect(codes.every((c) => c === 0)).toBe(true);
  });

  it('refuses to start on a bad rules file, naming the rule and field', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'rules:\n  var_exceeded:\n    threshold: high\n  my_rule:\n    metric: cpu\n    comparison: ">"\n',
    );
    const err = await startService('alerter', { ...f.env, RULES_FILE: file }).then(
      () => new Error('started'),
      (e: Error) => e,
    );
    expect(err.message).toContain('exited early');
    expect(err.message).toContain('rule "var_exceeded", field "threshold"');
    expect(err.message).toContain('rule "my_rule", field "threshold"');
    expect(err.message).toContain('rule "my_rule", field "recommendation"');
  });

  describe('with a rules file', () => {
    let alerter: RunningService;
    let file: string;
    const write = (yaml: string): void => writeFileSync(file, yaml);

    beforeAll(async () => {
      file = join(dir, 'rules.yaml');
      // cpu_high's own `for` here, and no start-up grace: the hosts are new.
      write(`
rules:
  drawdown_exceeded:
    threshold: 0.1
    clearThreshold: 0.08
    overrides:
      careful: { threshold: 0.05, clearThreshold: 0.04 }
  cpu_high:
    for: 1s
    startupGrace: 0
  var_exceeded:
    keepFiringFor: 0 # the noisy series below resolves on its one calm sample
  loss_stop:
    metric: cumulativeReturn
    comparison: "<"
    threshold: -0.2
    level: critical
    subject: strategy
    action: flatten-positions
    labels: { desk: macro }
    recommendation: Flatten the strategy.
`);
      alerter = await startAlerter(f, { RULES_FILE: file });
      running.push(alerter);
    });

    it('applies a per-strategy override: a tighter drawdown limit for one strategy', async () => {
      await pushScore(f, 'bold', { currentDrawdown: -0.07 });
      await pushScore(f, 'careful', { currentDrawdown: -0.07 });
      const e = await waitEvent(f, (x) => x.rule === 'drawdown_exceeded', 'drawdown alert');
      expect(e).toMatchObject({ subject: 'strategy/careful', threshold: 0.05, level: 'warning' });
      await sleep(300);
      expect(eventsFor(await alertEvents(f), 'drawdown_exceeded', 'strategy/bold')).toEqual([]);
    });

    it('runs a new critical rule from the file and enqueues its configured job', async () => {
      await pushScore(f, 'loser', { cumulativeReturn: -0.3 });
      const e = await waitEvent(f, (x) => x.rule === 'loss_stop', 'loss_stop alert');
      expect(e).toMatchObject({ level: 'critical', labels: { desk: 'macro' }, value: -0.3 });
      const job = await eventually(
        () => worker.jobs.find((j) => j.id === e.incidentId),
        10_000,
        'flatten job',
      );
      expect(job.name).toBe('flatten-positions');
    });

    it('keeps an incident pending until `for` has held, then fires the same incident', async () => {
      await pushSystem(f, 'h-for', { cpu: 95 });
      const pending = await waitEvent(
        f,
        (x) => x.rule === 'cpu_high' && x.subject === 'host/h-for',
        'pending cpu_high',
      );
      expect(pending.state).toBe('pending');
      await sleep(1100);
      await pushSystem(f, 'h-for', { cpu: 96 });
      const firing = await waitEvent(
        f,
        (x) => x.rule === 'cpu_high' && x.subject === 'host/h-for' && x.state === 'firing',
        'firing cpu_high',
      );
      expect(firing.incidentId).toBe(pending.incidentId);
      expect(firing.startsAt).toBe(pending.startsAt);
    });

    it('opens exactly one incident and one job for a noisy series around the threshold', async () => {
      for (let i = 0; i < 60; i++) {
        const noise = Math.sin(i * 1.7) * 0.012 + (i % 7 === 0 ? -0.005 : 0); // stays above 0.13
        await pushScore(f, 'noisy', { valueAtRisk: -(0.15 + noise) });
      }
      await pushScore(f, 'noisy', { valueAtRisk: -0.05 });
      await waitEvent(
        f,
        (x) => x.subject === 'strategy/noisy' && x.state === 'resolved',
        'noisy resolved',
      );
      const events = eventsFor(await alertEvents(f), 'var_exceeded', 'strategy/noisy');
      expect(events.map((e) => e.state)).toEqual(['firing', 'resolved']);
      await eventually(
        () => worker.jobs.find((j) => j.id === events[0]?.incidentId),
        10_000,
        'one job',
      );
      await sleep(300);
      expect(worker.jobs.filter((j) => j.data.alert.subject === 'strategy/noisy')).toHaveLength(1);
    });

    it('reloads on change, and keeps the old rules when a reload fails', async () => {
      // memory_high fires on the crossing sample here: no `for`, no start-up grace.
      write(
        'rules:\n  memory_high: { threshold: 50, clearThreshold: 40, for: 0, startupGrace: 0 }\n',
      );
      await eventually(
        async () => {
          await pushSystem(f, 'h-reload', { memory: 60 });
          return (await alertEvents(f)).find(
            (e) => e.rule === 'memory_high' && e.subject === 'host/h-reload',
          );
        },
        10_000,
        'memory_high at the reloaded threshold',
      );
      write('rules:\n  memory_high: { threshold: [oops\n');
      await eventually(
        async () =>
          (await metric(alerter, 'quantmon_rules_reload_errors_total')) >= 1 ? true : undefined,
        10_000,
        'failed reload counted',
      );
      await pushSystem(f, 'h-after', { memory: 60 });
      const e = await waitEvent(
        f,
        (x) => x.rule === 'memory_high' && x.subject === 'host/h-after',
        'old rules still on',
      );
      expect(e.threshold).toBe(50);
    });
  });

  it('reloads on SIGHUP when file watching is off', async () => {
    const g = await alertsFixture('rules-hup', { server: f.server });
    const file = join(dir, 'hup.json');
    writeFileSync(file, JSON.stringify({ rules: { cpu_high: { enabled: false } } }));
    const alerter = await startAlerter(g, { RULES_FILE: file, RULES_WATCH: 'false' });
    running.push(alerter);
    await pushSystem(g, 'h1', { cpu: 99 });
    await sleep(500);
    expect(await alertEvents(g)).toEqual([]);
    // Firing on the crossing sample: no `for`, no start-up grace.
    writeFileSync(
      file,
      JSON.stringify({ rules: { cpu_high: { threshold: 90, for: 0, startupGrace: 0 } } }),
    );
    alerter.proc.kill('SIGHUP');
    await eventually(
      async () => {
        await pushSystem(g, 'h1', { cpu: 99 });
        return (await alertEvents(g)).find((e) => e.rule === 'cpu_high');
      },
      10_000,
      'cpu_high after SIGHUP',
    );
    g.redis.disconnect();
  });
});
