import { describe, expect, it } from 'vitest';
import { p50p99, processingSeconds } from './processing-time.js';

describe('processing time', () => {
  it('reads receivedAt and computedAt of each score update', () => {
    const entries: [string, string[]][] = [
      ['1-0', ['d', JSON.stringify({ receivedAt: 1000, computedAt: 1250 })]],
      ['2-0', ['d', JSON.stringify({ receivedAt: 1000, computedAt: 1010 })]],
      ['3-0', ['d', '{not json']],
      ['4-0', ['d', JSON.stringify({ receivedAt: 'x', computedAt: 1 })]],
      ['5-0', ['other', '1']],
    ];
    expect(processingSeconds(entries)).toEqual([0.25, 0.01]);
  });
  it('finds the stamps in the text of an update as the scorer writes it, and parses any other shape', () => {
    const update = {
      strategy: 's"1',
      metrics: { sharpeRatio: 1.5 },
      tags: { note: ',"receivedAt":1,"computedAt":999999,' },
      receivedAt: 1_796_000_000_000,
      computedAt: 1_796_000_000_040.5,
      span: { samples: 3, low: {}, high: {} },
    };
    const reordered = { computedAt: 2000, receivedAt: 1000, strategy: 's' };
    const entries: [string, string[]][] = [
      ['1-0', ['d', JSON.stringify(update)]],
      ['2-0', ['d', JSON.stringify(reordered)]],
      ['3-0', ['d', JSON.stringify({ receivedAt: 5e3, computedAt: 6e3 })]],
    ];
    // The tag's text is inside a string (its quotes escaped): not a key.
    expect(processingSeconds(entries)).toEqual([0.0405, 1, 1]);
  });
  it('answers p50 and p99 in seconds, none for no updates', () => {
    const s = Array.from({ length: 100 }, (_, i) => (i + 1) / 1000);
    expect(p50p99(s)).toEqual({ p50: 0.05, p99: 0.099 });
    expect(p50p99([])).toBeUndefined();
  });
});
