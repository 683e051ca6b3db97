import { DATA_FIELD, StrategySample, SystemSample } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { decodeItem } from './decode-item.js';

/** The historian's decode keeps the stream's JSON text only where it is exactly the value. */

const sample = {
  strategy: 'alpha',
  ts: 1_764_000_000_000,
  return: 0.01,
  receivedAt: 1_764_000_000_001,
};

describe('decodeItem', () => {
  it("keeps a hot entry's JSON text as is when the fast guard accepts it", () => {
    const text = JSON.stringify(sample);
    const d = decodeItem([DATA_FIELD, text], StrategySample);
    expect(d).toEqual({ ok: true, value: sample, raw: text });
  });

  it('gives no text for a schema without a fast guard (the value may be transformed)', () => {
    const host = { host: 'h1', ts: 1_764_000_000_000, cpu: 12 };
    const d = decodeItem([DATA_FIELD, JSON.stringify(host)], SystemSample);
    expect(d).toEqual({ ok: true, value: host });
  });

  it('names what is wrong with a malformed entry, as decodeEntry does', () => {
    expect(decodeItem([DATA_FIELD, '{nope'], StrategySample)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^invalid JSON/) as unknown,
    });
    const bad = decodeItem(
      [DATA_FIELD, JSON.stringify({ ...sample, return: 'x' })],
      StrategySample,
    );
    expect(bad).toMatchObject({ ok: false, reason: expect.stringMatching(/return/) as unknown });
    expect(decodeItem(['other', '{}'], StrategySample)).toMatchObject({ ok: false });
  });
});
