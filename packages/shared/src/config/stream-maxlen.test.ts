import { describe, expect, it } from 'vitest';
import { STREAM_MAXLEN } from '../keys.js';
import { loadCollectorConfig } from './collector.js';

describe('STREAM_MAXLEN_SAMPLES', () => {
  it('defaults to the built-in cap and takes a smaller one above the ingest backlog', () => {
    expect(loadCollectorConfig({}).streamMaxLenSamples).toBe(STREAM_MAXLEN.strategySamples);
    expect(loadCollectorConfig({ STREAM_MAXLEN_SAMPLES: '250000' }).streamMaxLenSamples).toBe(
      250_000,
    );
  });

  it('refuses a cap a permitted backlog could overrun, naming both variables', () => {
    expect(() => loadCollectorConfig({ STREAM_MAXLEN_SAMPLES: '150000' })).toThrow(
      /STREAM_MAXLEN_SAMPLES: must be at least twice INGEST_MAX_LAG \(100000\)/,
    );
    // With a smaller backlog limit, or none (INGEST_MAX_LAG=0, the operator's choice), it is taken.
    expect(
      loadCollectorConfig({ STREAM_MAXLEN_SAMPLES: '150000', INGEST_MAX_LAG: '50000' })
        .streamMaxLenSamples,
    ).toBe(150_000);
    expect(() => loadCollectorConfig({ STREAM_MAXLEN_SAMPLES: '10' })).toThrow(
      /STREAM_MAXLEN_SAMPLES/,
    );
  });
});
