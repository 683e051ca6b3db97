import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadAlerterConfig,
  loadCollectorConfig,
  loadGatewayConfig,
  loadScorerConfig,
} from './config.js';

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

  it('reads the Alertmanager destinations: off by default, a list of http(s) URLs', () => {
    expect(loadAlerterConfig({}).alertmanager).toEqual({
      urls: [],
      resendMs: 60_000,
      timeoutMs: 10_000,
      dashboardUrl: undefined,
    });
    const c = loadAlerterConfig({
      ALERTMANAGER_URLS: 'http://am1:9093/, https://am2.example',
      ALERTMANAGER_RESEND_MS: '5000',
      DASHBOARD_URL: 'https://quantmon.example/',
    });
    expect(c.alertmanager).toMatchObject({
      urls: ['http://am1:9093', 'https://am2.example'],
      resendMs: 5000,
      dashboardUrl: 'https://quantmon.example/',
    });
    expect(() => loadAlerterConfig({ ALERTMANAGER_URLS: 'am1:9093' })).toThrow(/ALERTMANAGER_URLS/);
  });
});
