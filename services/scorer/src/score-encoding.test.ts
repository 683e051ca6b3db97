import { ScoreUpdate } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { DEFAULT_METRICS_OPTIONS } from './metrics/index.js';
import { ScorerCore } from './scorer-core.js';
import { encodeUpdate } from './score-writer.js';

const entries = Array.from({ length: 12 }, (_, i) => ({
  id: `${i + 1}-0`,
  value: {
    strategy: 'a',
    ts: 1_700_000_000_000 + i * 1000,
    return: Math.sin(i) / 50,
    receivedAt: 1_700_000_000_000 + i * 1000,
  },
}));

describe('encodeUpdate: the stream entry and the latest state of one update', () => {
  it('writes an update of one sample once, as JSON.stringify does', () => {
    const core = new ScorerCore({ ...DEFAULT_METRICS_OPTIONS, window: 30 });
    const u = core.applyBatch(entries.slice(0, 1), 5).updates[0]!;
    expect(u.span).toBeUndefined();
    expect(encodeUpdate(u)).toEqual({ strategy: 'a', json: JSON.stringify(u) });
  });

  it('gives the stream the whole update and the latest state the same without its span', () => {
    const core = new ScorerCore({ ...DEFAULT_METRICS_OPTIONS, window: 30 });
    const u = core.applyBatch(entries, 5).updates[0]!;
    expect(u.span?.samples).toBe(12);
    const e = encodeUpdate(u);

    const entry: unknown = JSON.parse(e.json);
    expect(entry).toEqual(u);
    expect(ScoreUpdate.parse(entry)).toEqual(u);
    const { span: _span, ...state } = u;
    const latest: unknown = JSON.parse(e.latest!);
    expect(latest).toEqual(state);
    expect(ScoreUpdate.parse(latest)).toEqual(state);
    expect(e.latest).not.toContain('"span"');
    // The copy kept as the latest is less than half the entry's bytes.
    expect(e.latest!.length).toBeLessThan(e.json.length / 2 + 200);
    expect(u.span).toBeDefined(); // the update itself is left as it was
  });
});
