import { DATA_FIELD, type ScoreSpan, type ScoreUpdate } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { scoreUpdate } from '../../../test/helpers/gateway-fixtures.js';
import { cutTrailingSpan, encodeBroadcast, hasSpan } from './frame-encoding.js';
import { decodeBroadcast, type Broadcast } from './stream-feed.js';
import { framePayload } from './wire-frame.js';

const span: ScoreSpan = {
  samples: 3,
  firstEntryId: '1767225599000-0',
  firstCount: 10,
  low: { valueAtRisk: -0.17, 'scores.risk': 41 },
  high: { valueAtRisk: -0.02, 'scores.risk': 55.2 },
};

/** A score broadcast decoded from the entry text `json`, as the gateway reads it. */
function broadcast(json: string): Broadcast {
  const d = decodeBroadcast('scores', 2, '1767225600000-0', [DATA_FIELD, json]);
  if (!d.ok) throw new Error(d.reason);
  return d.b;
}

function sent(frame: Buffer): { type: string; pos: string; part: number; data: ScoreUpdate } {
  return JSON.parse(String(framePayload(frame))) as ReturnType<typeof sent>;
}

describe('encodeBroadcast without the span (subscribe omit)', () => {
  const base = scoreUpdate('omit-a', 7, 1_767_225_600_000);
  const spanned: ScoreUpdate = { ...base, span };

  it('cuts the span the scorer writes last, leaving the rest byte for byte', () => {
    const b = broadcast(JSON.stringify(spanned));
    expect(hasSpan(b)).toBe(true);
    const lean = String(framePayload(encodeBroadcast(b, true)));
    expect(lean).toBe(
      `{"type":"score","pos":"1767225600000-0","part":2,"data":${JSON.stringify(base)}}`,
    );
    expect(sent(encodeBroadcast(b, false)).data).toEqual(spanned);
  });

  it('serialises the update again when the span is not the last key', () => {
    const { strategy, ...rest } = spanned;
    const b = broadcast(JSON.stringify({ span, strategy, ...rest }));
    const f = sent(encodeBroadcast(b, true));
    expect(f.data).toEqual(base);
    expect(f).toMatchObject({ type: 'score', pos: '1767225600000-0', part: 2 });
  });

  it('sends an update without a span the same either way', () => {
    const b = broadcast(JSON.stringify(base));
    expect(hasSpan(b)).toBe(false);
    expect(encodeBroadcast(b, true).equals(encodeBroadcast(b, false))).toBe(true);
  });
});

describe('cutTrailingSpan', () => {
  it('finds the key itself, not the same text inside a string', () => {
    // A firstEntryId holding the key's text: inside a JSON string its quotes are escaped.
    const u = { strategy: 'x', span: { ...span, firstEntryId: ',"span":{' } };
    expect(cutTrailingSpan(JSON.stringify(u), u)).toBe('{"strategy":"x"}');
  });

  it('declines text of another shape', () => {
    const u = { strategy: 'x', span };
    expect(cutTrailingSpan(JSON.stringify(u, null, 1), u)).toBeUndefined();
    expect(cutTrailingSpan(`${JSON.stringify(u)} `, u)).toBeUndefined();
    const first = { span, strategy: 'x' };
    expect(cutTrailingSpan(JSON.stringify(first), first)).toBeUndefined();
  });
});
