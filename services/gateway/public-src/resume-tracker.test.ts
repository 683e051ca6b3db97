import { describe, expect, it } from 'vitest';
import { ResumeTracker } from './resume-tracker.js';
import { scoreUpdate, alertEvent } from '../../../test/helpers/gateway-fixtures.js';

describe('ResumeTracker', () => {
  it('keeps the newest position per stream and partition, from data frames and snapshots', () => {
    const t = new ResumeTracker();
    expect(t.since()).toBeUndefined();
    t.track({
      type: 'snapshot',
      topic: 'alerts',
      alerts: [],
      pos: '20-0',
      positions: { alerts: { '0': '10-0', '1': '20-0' } },
    });
    t.track({ type: 'alert', pos: '30-0', part: 0, data: alertEvent(1) });
    t.track({ type: 'alert', pos: '15-0', part: 1, data: alertEvent(2) }); // older: ignored
    t.track({ type: 'score', pos: '999-0', part: 1, data: scoreUpdate('a', 1) });
    t.track({ type: 'score', pos: '1000-0', part: 1, data: scoreUpdate('a', 2) });
    expect(t.since()).toEqual({
      alerts: { '0': '30-0', '1': '20-0' },
      scores: { '1': '1000-0' },
    });
    t.track({
      type: 'resumed',
      topic: 'strategy:a',
      replayed: 0,
      pos: '1200-0',
      positions: { scores: { '0': '1100-0', '1': '1200-0' } },
    });
    expect(t.since()?.scores).toEqual({ '0': '1100-0', '1': '1200-0' });
  });

  it('forgets a stream on reset, so the following snapshot replaces a position the gateway refused', () => {
    const t = new ResumeTracker();
    t.track({ type: 'alert', pos: '99999999999999-0', part: 0, data: alertEvent(1) });
    t.track({ type: 'reset', topic: 'alerts', reason: 'unknown_position' });
    t.track({
      type: 'snapshot',
      topic: 'alerts',
      alerts: [],
      pos: '5-0',
      positions: { alerts: { '0': '5-0' } },
    });
    expect(t.since()).toEqual({ alerts: { '0': '5-0' } });
  });

  it('counts frames of a gateway from before partitions as partition 0', () => {
    const t = new ResumeTracker();
    t.track({ type: 'snapshot', topic: 'system', system: [], pos: '7-0' });
    expect(t.since()).toEqual({ system: { '0': '7-0' } });
  });
});
