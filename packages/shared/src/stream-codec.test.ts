import { describe, expect, it } from 'vitest';
import { StrategySample } from './schemas/strategy-sample.js';
import { decodeEntry, encodeEntry } from './stream-codec.js';

const good = { strategy: 's1', ts: 1, return: 0.01, receivedAt: 2 };

describe('stream codec', () => {
  it('round-trips a valid message', () => {
    expect(decodeEntry(encodeEntry(good), StrategySample)).toEqual({ ok: true, value: good });
  });

  it('explains why an entry is malformed', () => {
    expect(decodeEntry(['x', '1'], StrategySample)).toEqual({
      ok: false,
      reason: 'missing field "d"',
    });
    expect(decodeEntry(['d', '{nope'], StrategySample)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('invalid JSON'),
    });
    const bad = decodeEntry(['d', JSON.stringify({ ...good, return: 'x' })], StrategySample);
    expect(bad).toMatchObject({ ok: false, reason: expect.stringContaining('return:') });
  });
});
