import { describe, expect, it } from 'vitest';
import { describeExit, Supervisor, type RestartPolicy } from './supervisor.js';

const policy: RestartPolicy = {
  initialDelayMs: 100,
  factor: 2,
  maxDelayMs: 1000,
  windowMs: 60_000,
  maxRestarts: 5,
  stableAfterMs: 30_000,
};

describe('Supervisor', () => {
  it('backs off exponentially while a child keeps crashing, up to the cap', () => {
    const s = new Supervisor({ ...policy, maxRestarts: 100 });
    const delays: number[] = [];
    let t = 0;
    for (let i = 0; i < 6; i++) {
      const d = s.exited('scorer', 'killed by SIGKILL', t, t - 10);
      if (d.action !== 'restart') throw new Error('expected a restart');
      delays.push(d.delayMs);
      t += 5;
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(s.restarts('scorer')).toBe(6);
    expect(s.restarts('gateway')).toBe(0);
  });

  it('starts over from the first delay after a stable run', () => {
    const s = new Supervisor(policy);
    s.exited('gateway', 'exited with code 1', 1000, 900);
    s.exited('gateway', 'exited with code 1', 2000, 1900);
    const d = s.exited('gateway', 'exited with code 1', 40_000, 2100); // ran 37.9 s
    expect(d).toMatchObject({ action: 'restart', delayMs: 100, attempt: 1 });
  });

  it('gives up after more than maxRestarts exits within the window, naming the child', () => {
    const s = new Supervisor(policy);
    for (let i = 0; i < 5; i++) {
      expect(s.exited('collector', 'exited with code 1', i * 1000, i * 1000 - 1).action).toBe(
        'restart',
      );
    }
    const d = s.exited('collector', 'exited with code 1', 5000, 4999);
    expect(d.action).toBe('give-up');
    expect(d.message).toMatch(/collector exited with code 1; it has exited 6 times within 60 s/);
  });

  it('forgets exits older than the window', () => {
    const s = new Supervisor(policy);
    for (let i = 0; i < 5; i++) s.exited('alerter', 'killed by SIGKILL', i, i - 1);
    // A minute later the early crashes no longer count.
    expect(s.exited('alerter', 'killed by SIGKILL', 61_000, 60_999).action).toBe('restart');
    // Each child is judged on its own.
    expect(s.exited('scorer', 'killed by SIGKILL', 61_000, 60_999).action).toBe('restart');
  });

  it('describes how a child ended', () => {
    expect(describeExit(null, 'SIGKILL')).toBe('killed by SIGKILL');
    expect(describeExit(3, null)).toBe('exited with code 3');
  });
});
