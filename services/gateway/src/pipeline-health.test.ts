import type { ServiceHeartbeat } from '@quantmon/shared';
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

  it('answers an ingest rate once it has two readings, over at most the window', () => {
    const r = new IngestRate(10_000);
    expect(r.observe(0, 100).samplesPerSecond).toBeNull();
    expect(r.observe(2000, 300)).toEqual({ samplesPerSecond: 100, overSeconds: 2 });
    expect(r.observe(12_000, 1300).samplesPerSecond).toBe(100); // the reading at 0 fell out
    // A counter that went backwards (a flushed Redis) starts over.
    expect(r.observe(13_000, 5).samplesPerSecond).toBeNull();
  });
});
