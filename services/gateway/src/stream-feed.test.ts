import { createLogger, encodeEntry, keysFor, type RawEntry } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { alertEvent, scoreUpdate } from '../../../test/helpers/gateway-fixtures.js';
import { GatewayState } from './gateway-state.js';
import { makeEntryHandler, type Broadcast } from './stream-feed.js';
import { streamIndex } from './topics.js';

const keys = keysFor('t');
const entry = (id: string, m: unknown): RawEntry => [id, encodeEntry(m)];

describe('makeEntryHandler', () => {
  it('coalesces metric frames per tick to the latest per strategy, keeps every alert', () => {
    const state = new GatewayState(2);
    const batches: Broadcast[][] = [];
    let bad = 0;
    const handle = makeEntryHandler(
      streamIndex(keys, 2),
      state,
      (b) => batches.push(b),
      createLogger('t', 'silent'),
      () => bad++,
    );
    handle(keys.partition(1).scores, [
      entry('1-0', scoreUpdate('a', 1)),
      entry('2-0', scoreUpdate('b', 1)),
      entry('3-0', scoreUpdate('a', 2)),
      ['4-0', ['d', '{broken']],
    ]);
    expect(batches[0]?.map((b) => [b.pos, b.part, b.key])).toEqual([
      ['2-0', 1, 'strategy:b'],
      ['3-0', 1, 'strategy:a'],
    ]);
    expect(batches[0]?.[0]?.frame).toMatchObject({ type: 'score', pos: '2-0', part: 1 });
    expect(bad).toBe(1);
    expect(state.pos.scores).toEqual(['0-0', '4-0']);
    expect(state.scores.get('a')?.id).toBe('a-2');
    handle(keys.partition(0).alerts, [entry('5-0', alertEvent(1)), entry('6-0', alertEvent(2))]);
    handle(keys.partition(1).alerts, [entry('5-1', alertEvent(3))]);
    expect(batches[1]?.map((b) => [b.pos, b.part, b.key])).toEqual([
      ['5-0', 0, null],
      ['6-0', 0, null],
    ]);
    expect(state.snapshot('alerts')).toMatchObject({
      pos: '6-0',
      positions: { alerts: { '0': '6-0', '1': '5-1' } },
    });
    expect(state.snapshot('strategy:a')).toMatchObject({
      positions: { scores: { '0': '0-0', '1': '4-0' } },
    });
    expect(state.strategies(0).strategies.map((s) => s.strategy)).toEqual(['a', 'b']);
  });

  it('ignores streams that are not a partition of this pipeline', () => {
    const state = new GatewayState(2);
    const batches: Broadcast[][] = [];
    const handle = makeEntryHandler(
      streamIndex(keys, 2),
      state,
      (b) => batches.push(b),
      createLogger('t', 'silent'),
      () => undefined,
    );
    handle(keys.partition(2).scores, [entry('1-0', scoreUpdate('a', 1))]);
    expect(batches).toEqual([]);
    expect(state.scores.size).toBe(0);
  });
});
