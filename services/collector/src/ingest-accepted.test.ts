import { describe, expect, it } from 'vitest';
import { acceptedAnswer, acceptedBody, socketAcceptedAnswer } from './ingest.js';
import { sliceResult } from './write-coalescer.js';
import { IngestSocketAccepted, type SampleOutcome } from '@quantmon/shared';

/**
 * The 202 body is made once for the commonest outcomes (every sample of a
 * small batch written in order): whatever the outcomes, its bytes must be
 * what serialising `acceptedBody` gives.
 */
describe('acceptedAnswer', () => {
  const text = (outcomes: SampleOutcome[], reordered = 0): [string, string] => {
    const result = sliceResult(outcomes, reordered);
    return [acceptedAnswer(result).toString('utf8'), JSON.stringify(acceptedBody(result))];
  };

  it('is the serialised body for every batch of written samples, cached or not', () => {
    for (let n = 1; n <= 40; n++) {
      const [got, want] = text(Array<SampleOutcome>(n).fill('written'));
      expect(got, `${n} written`).toBe(want);
    }
  });

  it('names duplicates, out-of-order indexes, late and reordered samples as before', () => {
    const cases: [SampleOutcome[], number][] = [
      [['duplicate'], 0],
      [['written', 'out-of-order', 'written'], 0],
      [['late'], 0],
      [['written', 'written'], 1],
      [['out-of-order'], 0],
    ];
    for (const [outcomes, reordered] of cases) {
      const [got, want] = text(outcomes, reordered);
      expect(got).toBe(want);
    }
    expect(JSON.parse(text(['written', 'out-of-order', 'written'])[0])).toMatchObject({
      accepted: 2,
      outOfOrder: 1,
      outOfOrderIndexes: [1],
    });
  });
});

/** The ingest socket's answer: the same fields after `seq` and `status`, cached or not. */
describe('socketAcceptedAnswer', () => {
  it('is the serialised IngestSocketAccepted for every outcome, cached or not', () => {
    const cases: [SampleOutcome[], number][] = [
      ...Array.from({ length: 20 }, (_, n): [SampleOutcome[], number] => [
        Array<SampleOutcome>(n + 1).fill('written'),
        0,
      ]),
      [['duplicate'], 0],
      [['written', 'out-of-order', 'written'], 0],
      [['late'], 0],
      [['written', 'written'], 1],
    ];
    for (const [i, [outcomes, reordered]] of cases.entries()) {
      const result = sliceResult(outcomes, reordered);
      const seq = 1000 + i;
      const got = socketAcceptedAnswer(seq, result);
      expect(got).toBe(JSON.stringify({ seq, status: 202, ...acceptedBody(result) }));
      expect(IngestSocketAccepted.safeParse(JSON.parse(got)).success).toBe(true);
    }
  });
});
