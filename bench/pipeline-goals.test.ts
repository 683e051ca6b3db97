import { describe, expect, it } from 'vitest';
import { describeGoals, GOALS, judgeGoals, type RunFigures } from './pipeline-goals.js';

const run = (over: Partial<RunFigures> = {}): RunFigures => ({
  ratio: 0.405,
  usPerSample: 30.5,
  halfLoadP99Ms: 132.3,
  neverShown: 0,
  postsPerSecond: 18_008,
  socketPerSecond: 45_733,
  dashboardsOpen: 10,
  dashboardsConnected: 10,
  ...over,
});

const metOf = (f: RunFigures): (boolean | undefined)[] => judgeGoals(f).map((v) => v.met);

describe('judgeGoals', () => {
  it('judges each goal on its own figure (a reference run of 2026-12-04)', () => {
    expect(metOf(run())).toEqual([true, true, false, false, true, true]);
  });

  it('holds the bounds as the issue states them: at least, at most, under', () => {
    const edge = run({
      ratio: GOALS.ratio,
      usPerSample: GOALS.usPerSample,
      halfLoadP99Ms: GOALS.halfLoadP99Ms,
      postsPerSecond: GOALS.singlePerSecond,
      socketPerSecond: GOALS.singlePerSecond - 1,
    });
    expect(metOf(edge)).toEqual([true, true, false, true, false, true]);
    expect(
      metOf(run({ ratio: 0.299, usPerSample: 50.1, halfLoadP99Ms: 49.9 })).slice(0, 3),
    ).toEqual([false, false, true]);
  });

  it('does not count the ingest socket for the HTTP posts, nor the other way round', () => {
    const v = judgeGoals(run({ postsPerSecond: 20_000, socketPerSecond: 60_000 }));
    expect(v[3]).toMatchObject({ figure: '20,000/s', met: false });
    expect(v[4]).toMatchObject({ figure: '60,000/s', met: true });
  });

  it('says a skipped phase was not measured rather than met or missed', () => {
    const v = judgeGoals(
      run({
        ratio: undefined,
        usPerSample: undefined,
        postsPerSecond: undefined,
        socketPerSecond: undefined,
      }),
    );
    expect(v.map((x) => x.met)).toEqual([undefined, undefined, false, undefined, undefined, true]);
    expect(v[0]!.figure).toBe('maximum skipped');
    expect(v[3]!.figure).toBe('phase skipped');
  });

  it('gives no half-load verdict when the rate was set rather than half the maximum', () => {
    expect(judgeGoals(run({ halfLoadP99Ms: undefined }))[2]).toMatchObject({
      figure: 'rate set by --half-rate',
      met: undefined,
    });
  });

  it('fails the dashboards goal on a closed dashboard, an unshown sample or none connected', () => {
    expect(judgeGoals(run({ dashboardsOpen: 9 }))[5]!.met).toBe(false);
    expect(judgeGoals(run({ neverShown: 1 }))[5]!.met).toBe(false);
    expect(judgeGoals(run({ dashboardsOpen: 0, dashboardsConnected: 0 }))[5]!.met).toBe(false);
  });
});

describe('describeGoals', () => {
  it('prints one aligned line per goal with its verdict', () => {
    const text = describeGoals(judgeGoals(run({ postsPerSecond: undefined })));
    const lines = text.split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[1]).toMatch(/^ {2}scored \/ ceiling at least 0\.30 +0\.405 +met$/);
    expect(lines[3]).toMatch(/half-load p99 under 50 ms +132\.3 ms +NOT MET$/);
    expect(lines[4]).toMatch(/phase skipped +not measured$/);
    // Aligned: every figure starts in one column, after the longest goal.
    const verdicts = judgeGoals(run({ postsPerSecond: undefined }));
    const column = 2 + Math.max(...verdicts.map((v) => v.goal.length)) + 2;
    verdicts.forEach((v, i) => expect(lines[i + 1]!.slice(column).startsWith(v.figure)).toBe(true));
  });
});

describe('the half load with an AOF rewrite in it', () => {
  it('shows the p99 outside the rewrite beside the phase p99, and judges the phase p99 alone', () => {
    const v = judgeGoals(
      run({ halfLoadP99Ms: 163.1, halfLoadOutsideRewrite: { p99Ms: 47.2, seconds: 7 } }),
    )[2]!;
    expect(v.figure).toBe('163.1 ms (47.2 in the 7 s without an AOF rewrite)');
    expect(v.met).toBe(false);
  });
});
