import { describe, expect, it } from 'vitest';
import { aheadText, HttpError, validateIngest } from './ingest.js';

const NOW = Date.UTC(2026, 11, 4, 8, 30);
const HOUR = 3_600_000;
const sample = (ts: number) => ({ strategy: 'momo-1', ts, return: 0.001 });

/** The HttpError validateIngest throws, or undefined when it accepts. */
function refusal(json: unknown, maxFutureMs: number): HttpError | undefined {
  try {
    validateIngest(json, { maxBatch: 100, maxFutureMs }, NOW);
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  return undefined;
}

describe('INGEST_MAX_FUTURE_MS', () => {
  it('refuses a batch with samples too far ahead of the clock, naming each one', () => {
    const err = refusal([sample(NOW), sample(NOW + 5 * HOUR), sample(NOW + 50 * HOUR)], 600_000);
    expect(err?.status).toBe(400);
    expect(err?.body).toEqual({
      error: 'invalid samples',
      issues: [
        {
          path: '[1].ts',
          message:
            "2026-12-04T13:30:00.000Z is 5 h ahead of the collector's clock; " +
            'at most 600000 ms ahead is accepted (INGEST_MAX_FUTURE_MS)',
        },
        {
          path: '[2].ts',
          message:
            "2026-12-06T10:30:00.000Z is 2 d 2 h ahead of the collector's clock; " +
            'at most 600000 ms ahead is accepted (INGEST_MAX_FUTURE_MS)',
        },
      ],
    });
  });

  it('names a single sample by its field, and takes a ts up to the limit ahead', () => {
    expect(refusal(sample(NOW + 600_001), 600_000)?.body.issues?.[0]?.path).toBe('ts');
    expect(refusal(sample(NOW + 600_000), 600_000)).toBeUndefined();
    expect(refusal([sample(NOW - 365 * 24 * HOUR), sample(NOW + 1)], 600_000)).toBeUndefined();
  });

  it('is off at 0: a replay or simulation may run ahead of the clock', () => {
    expect(refusal([sample(NOW + 500 * 24 * HOUR)], 0)).toBeUndefined();
  });

  it('says how far ahead as a person would', () => {
    expect(aheadText(1_500)).toBe('1.5 s');
    expect(aheadText(125_000)).toBe('2 min 5 s');
    expect(aheadText(3 * HOUR)).toBe('3 h');
    expect(aheadText(3 * HOUR + 12 * 60_000)).toBe('3 h 12 min');
    expect(aheadText(48 * HOUR)).toBe('2 d');
  });
});
