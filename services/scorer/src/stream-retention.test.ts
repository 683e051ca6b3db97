import { describe, expect, it } from 'vitest';
import {
  compareIds,
  heldBackMs,
  nextId,
  parseStreamId,
  retentionTrimPoint,
} from './stream-retention.js';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;

describe('stream ids', () => {
  it('compare by ms, then by seq, exactly past 2^53', () => {
    expect(compareIds('10-5', '9-99')).toBeGreaterThan(0);
    expect(compareIds('10-5', '10-40')).toBeLessThan(0);
    expect(compareIds('10-5', '10-5')).toBe(0);
    // As Numbers these two seqs are the same double.
    expect(compareIds('1-9007199254740993', '1-9007199254740992')).toBeGreaterThan(0);
  });

  it('step to the next id, carrying into ms at the largest seq', () => {
    expect(nextId('0-0')).toBe('0-1');
    expect(nextId('1700000000000-7')).toBe('1700000000000-8');
    expect(nextId('5-18446744073709551615')).toBe('6-0');
  });

  it('refuse what is not an id', () => {
    for (const bad of ['', '12', '12-', '-1-0', '1-2-3', 'abc-1', '1.5-0']) {
      expect(() => parseStreamId(bad)).toThrow(/not a stream id/);
    }
  });
});

describe('retentionTrimPoint', () => {
  it('trims at the age cutoff when no group lags behind it', () => {
    const point = retentionTrimPoint(NOW, HOUR, [
      { group: 'scorer', lastDeliveredId: `${NOW - 1000}-3` },
      { group: 'alerter', lastDeliveredId: `${NOW}-0`, oldestPendingId: `${NOW - 5000}-0` },
    ]);
    expect(point).toEqual({ minId: `${NOW - HOUR}-0`, heldBy: undefined });
    expect(heldBackMs(NOW, HOUR, point)).toBe(0);
  });

  it('trims at the age cutoff for a stream no group reads', () => {
    expect(retentionTrimPoint(NOW, HOUR, []).minId).toBe(`${NOW - HOUR}-0`);
  });

  it('keeps everything after a lagging group last-delivered-id', () => {
    const point = retentionTrimPoint(NOW, HOUR, [
      { group: 'scorer', lastDeliveredId: `${NOW - 3 * HOUR}-4` },
      { group: 'historian', lastDeliveredId: `${NOW - 2 * HOUR}-0` },
    ]);
    // The delivered entry itself may go; the one after it may not.
    expect(point).toEqual({ minId: `${NOW - 3 * HOUR}-5`, heldBy: 'scorer' });
    expect(heldBackMs(NOW, HOUR, point, NOW - 4 * HOUR)).toBe(2 * HOUR);
  });

  it('counts a group that has read nothing as holding back only what the stream holds', () => {
    const point = retentionTrimPoint(NOW, HOUR, [{ group: 'alerter', lastDeliveredId: '0-0' }]);
    expect(point.heldBy).toBe('alerter');
    // Empty stream: nothing is held back (not "since 1970").
    expect(heldBackMs(NOW, HOUR, point, undefined)).toBe(0);
    expect(heldBackMs(NOW, HOUR, point, NOW - 90 * 60_000)).toBe(30 * 60_000);
    expect(heldBackMs(NOW, HOUR, point, NOW - 10 * 60_000)).toBe(0);
  });

  it('keeps the oldest pending entry even when the group read far past it', () => {
    const point = retentionTrimPoint(NOW, HOUR, [
      {
        group: 'alerter',
        lastDeliveredId: `${NOW - 10}-0`,
        oldestPendingId: `${NOW - 5 * HOUR}-2`,
      },
    ]);
    expect(point).toEqual({ minId: `${NOW - 5 * HOUR}-2`, heldBy: 'alerter' });
  });

  it('trims nothing while a group created at 0 has read nothing', () => {
    const point = retentionTrimPoint(NOW, HOUR, [{ group: 'historian', lastDeliveredId: '0-0' }]);
    expect(point).toEqual({ minId: '0-1', heldBy: 'historian' });
  });

  it('takes the lowest over every group, whatever their order', () => {
    const groups = [
      { group: 'a', lastDeliveredId: `${NOW - 2 * HOUR}-0` },
      { group: 'b', lastDeliveredId: `${NOW}-0`, oldestPendingId: `${NOW - 2 * HOUR - 1}-9` },
      { group: 'c', lastDeliveredId: `${NOW - 2 * HOUR - 1}-10` },
    ];
    for (const order of [groups, [...groups].reverse()]) {
      expect(retentionTrimPoint(NOW, HOUR, order)).toEqual({
        minId: `${NOW - 2 * HOUR - 1}-9`,
        heldBy: 'b',
      });
    }
  });

  it('refuses a retention or clock that is not a positive whole number of ms', () => {
    expect(() => retentionTrimPoint(NOW, 0, [])).toThrow(/retention/);
    expect(() => retentionTrimPoint(Number.NaN, HOUR, [])).toThrow(/clock/);
    expect(() => retentionTrimPoint(NOW, HOUR, [{ group: 'g', lastDeliveredId: 'x' }])).toThrow(
      /not a stream id/,
    );
  });
});
