import { describe, expect, it } from 'vitest';
import { scoreUpdate } from '../../alerter/src/testing-inputs.js';
import { retiredEvent } from '../../alerter/src/forget-subject.js';
import { GatewayState } from './gateway-state.js';

const T0 = 1_700_000_000_000;

describe('GatewayState forgetting', () => {
  it('drops strategies received and hosts sampled before the cutoff, and counts them', () => {
    const s = new GatewayState(1);
    s.applyScore(scoreUpdate('old', {}, { receivedAt: T0 }));
    s.applyScore(scoreUpdate('new', {}, { receivedAt: T0 + 10_000 }));
    s.applySystem({ host: 'gone', ts: T0 });
    s.applySystem({ host: 'here', ts: T0 + 10_000 });
    expect(s.forgetIdle(T0 + 5000)).toEqual({ strategies: 1, hosts: 1 });
    expect([...s.scores.keys()]).toEqual(['new']);
    expect([...s.system.keys()]).toEqual(['here']);
    expect(s.forgetIdle(T0 + 5000)).toEqual({ strategies: 0, hosts: 0 });
  });

  it('drops a strategy on its strategy_retired event and ignores updates of its old windows', () => {
    const s = new GatewayState(1);
    s.applyScore(scoreUpdate('r', {}, { receivedAt: T0, computedAt: T0 }));
    s.applyAlert(retiredEvent('strategy/r', 'adam', T0 + 100, T0 + 200));
    expect(s.scores.has('r')).toBe(false);
    // An update of the old windows read after the event (another stream): ignored.
    s.applyScore(scoreUpdate('r', {}, { receivedAt: T0 + 50, computedAt: T0 + 300 }));
    expect(s.scores.has('r')).toBe(false);
    // A sample posted after the retirement: a new strategy.
    s.applyScore(scoreUpdate('r', {}, { receivedAt: T0 + 150, computedAt: T0 + 400, count: 1 }));
    expect(s.scores.get('r')?.count).toBe(1);
    // The mark goes once nothing of the old windows can still be in flight.
    s.pruneRetired(T0 + 101);
    s.applyScore(scoreUpdate('r', {}, { receivedAt: T0 + 60, computedAt: T0 + 500 }));
    expect(s.scores.get('r')?.receivedAt).toBe(T0 + 60);
  });
});
