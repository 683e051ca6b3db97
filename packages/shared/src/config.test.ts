import { describe, expect, it } from 'vitest';
import { ConfigError, loadCollectorConfig, loadGatewayConfig, loadScorerConfig } from './config.js';

describe('config loaders', () => {
  it('apply the documented defaults', () => {
    const g = loadGatewayConfig({});
    expect(g).toMatchObject({
      port: 8080,
      redisUrl: 'redis://127.0.0.1:6379',
      prefix: 'quantmon',
      bullPrefix: 'bull',
    });
    expect(loadCollectorConfig({}).port).toBe(8081);
    expect(loadScorerConfig({}).window).toBe(1000);
  });

  it('name the variable and the bad value', () => {
    const err = (() => {
      try {
        loadCollectorConfig({ COLLECTOR_PORT: 'eighty', SYSTEM_INTERVAL_MS: '100' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toContain('COLLECTOR_PORT');
    expect(msg).toContain('"eighty"');
    expect(msg).toContain('SYSTEM_INTERVAL_MS');
  });

  it('rejects a REDIS_URL that is not a redis URL', () => {
    expect(() => loadGatewayConfig({ REDIS_URL: 'http://localhost' })).toThrow(/REDIS_URL/);
  });
});
