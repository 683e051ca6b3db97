import { createLogger, encodeEntry, keysFor, type RawEntry } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { alertEvent, scoreUpdate } from '../../../test/helpers/gateway-fixtures.js';
import { GatewayState } from './gateway-state.js';
import { makeEntryHandler, type Broadcast } from './stream-feed.js';

const keys = keysFor('t');
const entry = (id: string, m: unknown): RawEntry => [id, encodeEntry(m)];

describe('makeEntryHandler', () => {
  it('coalesces metric frames per tick to the latest per strategy, keeps every alert', () => {
    const state = new GatewayState();
    const batches: Broadcast[][] = [];
    let bad = 0;
    const handle = makeEntryHandler(
      keys,
      state,
      (b) => batches.push(b),
      createLogger('t', 'silent'),
      () => bad++,
    );
    handle(keys.scores, [
      entry('1-0', scoreUpdate('a', 1)),
      entry('2-0', scoreUpdate('b', 1)),
      entry('3-0', scoreUpdate('a', 2)),
      ['4-0', ['d', '{broken']],
    ]);
    expect(batches[0]?.map((b) => [b.pos, b.key])).toEqual([
      ['2-0', 'strategy:b'],
      ['3-0', 'strategy:a'],
    ]);
    expect(bad).toBe(1);
    expect(state.pos.scores).toBe('4-0');
    expect(state.scores.get('a')?.id).toBe('a-2');
    handle(keys.alerts, [entry('5-0', alertEvent(1)), entry('6-0', alertEvent(2))]);
    expect(batches[1]?.map((b) => [b.pos, b.key])).toEqual([
      ['5-0', null],
      ['6-0', null],
    ]);
    expect(state.snapshot('alerts')).toMatchObject({ pos: '6-0' });
    expect(state.strategies(0).strategies.map((s) => s.strategy)).toEqual(['a', 'b']);
  });
});
