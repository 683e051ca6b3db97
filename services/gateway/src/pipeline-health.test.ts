import {
  parseSupervisorRestarts,
  type ServiceHeartbeat,
  type SupervisorRestart,
} from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { IngestRate, serviceViews } from './pipeline-health.js';

const NOW = 1_767_225_600_000;
const beat = (
  service: string,
  replica: string,
  beatAt: number,
  stoppedAt?: number,
): ServiceHeartbeat => ({
  service,
  replica,
  host: 'h',
  pid: 1,
  version: '0.1.0',
  startedAt: NOW - 60_000,
  beatAt,
  intervalMs: 1000,
  ...(stoppedAt !== undefined ? { stoppedAt } : {}),
});

describe('pipeline health', () => {
  it('lists the four services, up while a replica beats, down when none does, stopped when all stopped', () => {
    const views = serviceViews(
      [
        beat('scorer', 'old', NOW - 30_000),
        beat('scorer', 'new', NOW - 500),
        beat('alerter', 'a1', NOW - 9_000),
        beat('gateway', 'g1', NOW - 2_000, NOW - 2_000),
      ],
      NOW,
      5000,
    );
    expect(views.map((v) => [v.service, v.status, v.up])).toEqual([
      ['collector', 'unknown', 0],
      ['scorer', 'up', 1],
      ['alerter', 'down', 0],
      ['gateway', 'stopped', 0],
    ]);
    const scorer = views[1]!;
    expect(scorer.replicas.map((r) => [r.replica, r.status])).toEqual([
      ['new', 'up'],
      ['old', 'down'],
    ]);
    expect(scorer.replicas[0]?.uptimeSeconds).toBe(60);
    expect(views[2]?.replicas[0]?.silentSeconds).toBe(9);
  });

  it("adds npm start's restarts per service over its hosts and replicas, with the latest", () => {
    const restart = (
      child: string,
      host: string,
      restarts: number,
      lastAt: number,
      lastExit: string,
    ): SupervisorRestart => ({
      service: child.replace(/-\d+$/, ''),
      child,
      host,
      restarts,
      lastAt,
      lastExit,
      exitCode: null,
      signal: 'SIGKILL',
      supervisorStartedAt: NOW - 600_000,
    });
    const views = serviceViews(
      [beat('scorer', 's1', NOW - 100), beat('gateway', 'g1', NOW - 100)],
      NOW,
      5000,
      [
        restart('scorer-1', 'desk-a', 2, NOW - 50_000, 'killed by SIGKILL'),
        restart('scorer-2', 'desk-a', 1, NOW - 9_000, 'exited with code 1'),
        restart('scorer', 'desk-b', 1, NOW - 90_000, 'killed by SIGKILL'),
        restart('demo-feed', 'desk-a', 4, NOW - 1_000, 'exited with code 1'),
      ],
    );
    const scorer = views.find((v) => v.service === 'scorer')!;
    expect(scorer.restarts).toBe(4);
    expect(scorer.lastRestart).toEqual({
      child: 'scorer-2',
      host: 'desk-a',
      at: NOW - 9_000,
      exit: 'exited with code 1',
      restarts: 1,
    });
    // Nothing restarted (or nothing supervises, as under docker compose): zero and no last restart.
    const gateway = views.find((v) => v.service === 'gateway')!;
    expect(gateway.restarts).toBe(0);
    expect(gateway).not.toHaveProperty('lastRestart');
    // A supervised child that is no heartbeating service (the demo feed) adds no card.
    expect(views.map((v) => v.service)).toEqual(['collector', 'scorer', 'alerter', 'gateway']);
  });

  it('reads restart records, skipping any that fail their schema', () => {
    const good = {
      service: 'alerter',
      child: 'alerter',
      host: 'h',
      restarts: 1,
      lastAt: NOW,
      lastExit: 'killed by SIGKILL',
      exitCode: null,
      signal: 'SIGKILL',
      supervisorStartedAt: NOW - 1,
    };
    const parsed = parseSupervisorRestarts({
      'h/alerter': JSON.stringify(good),
      'h/scorer': JSON.stringify({ ...good, child: 'scorer', restarts: -1 }),
      'h/x': 'not json',
    });
    expect(parsed).toEqual([good]);
  });

  it('answers an ingest rate once it has two readings, over at most the window', () => {
    const r = new IngestRate(10_000);
    expect(r.observe(0, 100).samplesPerSecond).toBeNull();
    expect(r.observe(2000, 300)).toEqual({ samplesPerSecond: 100, overSeconds: 2 });
    expect(r.observe(12_000, 1300).samplesPerSecond).toBe(100); // the reading at 0 fell out
    // A counter that went backwards (a flushed Redis) starts over.
    expect(r.observe(13_000, 5).samplesPerSecond).toBeNull();
  });
});
