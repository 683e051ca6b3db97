import { createLogger, encodeEntry, keysFor, type RawEntry } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { alertEvent, scoreUpdate } from '../../../test/helpers/gateway-fixtures.js';
import { GatewayState } from './gateway-state.js';
import { textBeforeSpan } from './frame-encoding.js';
import { decodeBroadcast, makeEntryHandler, type Broadcast } from './stream-feed.js';
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

describe('decodeBroadcast without the span (no client takes spans)', () => {
  const span = {
    samples: 3,
    firstEntryId: '1-0',
    firstCount: 2,
    low: { valueAtRisk: -0.2 },
    high: { valueAtRisk: -0.1 },
  };
  const u = { ...scoreUpdate('a', 1), span };
  const { span: _span, ...state } = u;
  const text = JSON.stringify(u);

  it('decodes, keeps and forwards the update without its span', () => {
    const d = decodeBroadcast('scores', 1, '5-0', ['d', text], false);
    expect(d.ok && d.b.frame.type === 'score' && d.b.frame.data).toEqual(state);
    expect(d.ok && d.b.raw).toBe(JSON.stringify(state));
    const full = decodeBroadcast('scores', 1, '5-0', ['d', text]);
    expect(full.ok && full.b.frame.type === 'score' && full.b.frame.data).toEqual(u);
  });

  it('forwards the rest of an update whose span it does not read', () => {
    const broken = `${JSON.stringify(state).slice(0, -1)},"span":{"samples":[}}`;
    const d = decodeBroadcast('scores', 1, '5-0', ['d', broken], false);
    expect(d.ok && d.b.raw).toBe(JSON.stringify(state));
    // Decoded whole, the same entry is malformed and named so.
    expect(decodeBroadcast('scores', 1, '5-0', ['d', broken]).ok).toBe(false);
  });

  it('decodes whole what is not an update with a trailing span, naming what is wrong', () => {
    const first = JSON.stringify({ span, ...state });
    const d1 = decodeBroadcast('scores', 1, '5-0', ['d', first], false);
    expect(d1.ok && d1.b.frame.type === 'score' && d1.b.frame.data.span).toEqual(span);
    const { strategy, ...others } = state;
    const middle = JSON.stringify({ strategy, span, ...others });
    const d2 = decodeBroadcast('scores', 1, '5-0', ['d', middle], false);
    expect(d2.ok && d2.b.frame.type === 'score' && d2.b.frame.data.span).toEqual(span);
    const plain = JSON.stringify(state);
    const d3 = decodeBroadcast('scores', 1, '5-0', ['d', plain], false);
    expect(d3.ok && d3.b.raw).toBe(plain);
    const bad = `{"strategy":1${text.slice(text.indexOf(',"id"'))}`;
    const d4 = decodeBroadcast('scores', 1, '5-0', ['d', bad], false);
    expect(d4).toMatchObject({ ok: false, reason: expect.stringContaining('strategy') });
  });

  it('cuts only a span key at the top level', () => {
    expect(textBeforeSpan(text)).toBe(JSON.stringify(state));
    expect(textBeforeSpan(JSON.stringify(state))).toBeUndefined();
    // A nested "span" cut gives text that does not parse: the caller decodes whole.
    const nested = JSON.stringify({ ...state, windows: { x: 1, span: { y: 2 } } });
    const cut = textBeforeSpan(nested);
    expect(() => JSON.parse(cut!)).toThrow();
  });
});
