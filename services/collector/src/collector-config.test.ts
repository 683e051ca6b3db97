import { ConfigError, loadCollectorConfig } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadCollectorConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('collector configuration', () => {
  it('takes the ingest fast path by default; INGEST_FAST_PATH=false turns it off', () => {
    expect(loadCollectorConfig({}).ingestFastPath).toBe(true);
    expect(loadCollectorConfig({ INGEST_FAST_PATH: 'false' }).ingestFastPath).toBe(false);
    expect(problems({ INGEST_FAST_PATH: 'sometimes' })[0]).toMatch(/^INGEST_FAST_PATH/);
  });
  it('parses PROBES with defaults for method, timeout, interval and name', () => {
    const c = loadCollectorConfig({
      PROBES: JSON.stringify([
        { url: 'http://api.internal:8000/health' },
        { name: 'orders', url: 'https://x.example/o', method: 'HEAD', expectStatus: [200, 204] },
      ]),
    });
    expect(c.probes).toEqual([
      {
        url: 'http://api.internal:8000/health',
        name: 'api.internal:8000',
        method: 'GET',
        timeoutMs: 2000,
        intervalMs: 10_000,
      },
      {
        url: 'https://x.example/o',
        name: 'orders',
        method: 'HEAD',
        timeoutMs: 2000,
        intervalMs: 10_000,
        expectStatus: [200, 204],
      },
    ]);
    expect(c.probePercentile).toBe(100);
    expect(c.cacheRedisUrls).toEqual([]);
  });
  it('names PROBES and what is wrong when it is not valid', () => {
    expect(problems({ PROBES: 'not json' })[0]).toMatch(/^PROBES: must be a JSON array/);
    expect(problems({ PROBES: '[{"url":"ftp://x"}]' })[0]).toMatch(/^PROBES\.0\.url/);
    expect(problems({ PROBES: '[{"url":"http://a","intervalMs":10}]' })[0]).toMatch(
      /^PROBES\.0\.intervalMs/,
    );
    expect(problems({ PROBES: '[{"url":"http://a"},{"url":"http://a/b"}]' })[0]).toMatch(
      /duplicate probe name/,
    );
    expect(problems({ CACHE_REDIS_URLS: 'http://x' })[0]).toMatch(/^CACHE_REDIS_URLS/);
    expect(problems({ SYSTEM_INTERVAL_MS: '100' })[0]).toMatch(/^SYSTEM_INTERVAL_MS/);
  });

  it('takes INGEST_MAX_FUTURE_MS, 0 (no limit) by default, and names a bad value', () => {
    expect(loadCollectorConfig({}).ingestMaxFutureMs).toBe(0);
    expect(loadCollectorConfig({ INGEST_MAX_FUTURE_MS: '600000' }).ingestMaxFutureMs).toBe(600_000);
    expect(problems({ INGEST_MAX_FUTURE_MS: '-1' }).join('\n')).toMatch(/INGEST_MAX_FUTURE_MS/);
    expect(problems({ INGEST_MAX_FUTURE_MS: '10m' }).join('\n')).toMatch(/INGEST_MAX_FUTURE_MS/);
  });
});
