import { describe, expect, it } from 'vitest';
import { compareStreamIds, LoopHealth } from './loop-health.js';

describe('LoopHealth', () => {
  it('is never stuck while idle, however long', () => {
    const h = new LoopHealth(1000);
    h.observe('scores-p0', '5-0', false, 0);
    h.observe('scores-p0', '5-0', false, 60_000);
    expect(h.checks(60_000)).toEqual({ 'loop:scores-p0': true });
  });

  it('fails a loop with work waiting and no progress past the threshold, and recovers on progress', () => {
    const h = new LoopHealth(1000);
    h.observe('p0', '5-0', false, 0);
    // Work arrives at 10 s: the clock starts then, not at the last progress.
    h.observe('p0', '5-0', true, 10_000);
    h.observe('p0', '5-0', true, 10_900);
    expect(h.checks(10_900)['loop:p0']).toBe(true);
    h.observe('p0', '5-0', true, 11_001);
    expect(h.checks(11_001)['loop:p0']).toBe(false);
    expect(h.report(11_001)['p0']).toEqual({ ok: false, behind: true, sinceProgressMs: 1001 });
    h.observe('p0', '6-0', true, 11_500);
    expect(h.checks(11_600)['loop:p0']).toBe(true);
  });

  it('judges a timer loop by its beats, allowing three of its own intervals', () => {
    const h = new LoopHealth(1000);
    h.beat('system-writer', 0, 5000);
    expect(h.checks(14_000)['loop:system-writer']).toBe(true);
    expect(h.checks(15_001)['loop:system-writer']).toBe(false);
    h.beat('system-writer', 15_002, 5000);
    expect(h.checks(15_003)['loop:system-writer']).toBe(true);
  });

  it('forgets loops that moved to another replica', () => {
    const h = new LoopHealth(1000);
    h.observe('p0', '1-0', true, 0);
    h.observe('p1', '1-0', true, 0);
    h.retain(new Set(['p1']));
    expect(Object.keys(h.checks(5000))).toEqual(['loop:p1']);
  });
});

describe('compareStreamIds', () => {
  it('compares numerically, past 2^53', () => {
    expect(compareStreamIds('9-0', '10-0')).toBe(-1);
    expect(compareStreamIds('10-2', '10-10')).toBe(-1);
    expect(compareStreamIds('18446744073709551615-1', '18446744073709551615-0')).toBe(1);
    expect(compareStreamIds('7-7', '7-7')).toBe(0);
  });
});

describe('LoopHealth without answers', () => {
  it('counts an unanswered probe as no progress since the last position seen', () => {
    const h = new LoopHealth(1000);
    h.observe('p0', '5-0', false, 0);
    h.noAnswer('p0', 500);
    expect(h.checks(1000)['loop:p0']).toBe(true);
    h.noAnswer('p0', 1500);
    expect(h.checks(1500)['loop:p0']).toBe(false);
    h.observe('p0', '6-0', false, 1600);
    expect(h.checks(1600)['loop:p0']).toBe(true);
  });
});
