import { describe, expect, it } from 'vitest';
import { loadStartConfig } from './start-config.js';

describe('loadStartConfig', () => {
  it('defaults the ports and the restart policy', () => {
    const c = loadStartConfig({});
    expect(c).toMatchObject({ gatewayPort: 8080, collectorPort: 8081, clusterNodes: [] });
    expect(c.scorerPort).toBeUndefined();
    expect(c.restartPolicy.maxRestarts).toBe(5);
  });

  it('names every bad variable with what it got', () => {
    expect(() =>
      loadStartConfig({ GATEWAY_PORT: 'abc', COLLECTOR_PORT: '70000', REDIS_URL: 'http://x' }),
    ).toThrow(
      /GATEWAY_PORT: .*\(got "abc"\)[\s\S]*COLLECTOR_PORT: .*\(got "70000"\)[\s\S]*REDIS_URL: .*\(got "http:\/\/x"\)/,
    );
  });

  it('reads the cluster seed nodes and the restart limits', () => {
    const c = loadStartConfig({
      REDIS_CLUSTER_NODES: 'redis://a:7000, redis://b:7001',
      SUPERVISOR_MAX_RESTARTS: '2',
      SUPERVISOR_RESTART_WINDOW_MS: '5000',
      SUPERVISOR_PORT: '9100',
    });
    expect(c.clusterNodes).toEqual(['redis://a:7000', 'redis://b:7001']);
    expect(c.restartPolicy).toMatchObject({ maxRestarts: 2, windowMs: 5000 });
    expect(c.supervisorPort).toBe(9100);
  });
});
