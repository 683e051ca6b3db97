import { WS_CLOSE } from '@quantmon/shared';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { startService, type RunningService } from '../helpers/services.js';

/** What a WebSocket attempt got: its first frame's type, or the close code. */
function attempt(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('error', () => resolve('error'));
    ws.on('message', (d: Buffer) => {
      resolve((JSON.parse(d.toString()) as { type: string }).type);
      ws.close();
    });
    ws.on('close', (code) => resolve(`close ${code}`));
  });
}

/** Behind an authenticating proxy: its user header identifies WebSocket clients as it does REST callers. */
describe('gateway behind a trusted proxy', () => {
  let redisServer: TestRedis;
  let gateway: RunningService;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    gateway = await startService('gateway', {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: uniquePrefix('gwproxy'),
      GATEWAY_TOKENS: 'ops:operator:s3cret-token-1',
      GATEWAY_PROXY_USER_HEADER: 'X-Forwarded-User',
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await redisServer?.dispose();
  });

  it('lets a proxied browser open the WebSocket without a token, and still refuses one with neither', async () => {
    const url = `ws://127.0.0.1:${gateway.port}/ws`;
    expect(await attempt(url, { 'X-Forwarded-User': 'alice' })).toBe('hello');
    expect(await attempt(url, {})).toBe(`close ${WS_CLOSE.unauthorized}`);
    expect(await attempt(`${url}?token=s3cret-token-1`, {})).toBe('hello');
    const me = await fetch(`http://127.0.0.1:${gateway.port}/api/me`, {
      headers: { 'X-Forwarded-User': 'alice' },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ name: 'alice', role: 'viewer', via: 'proxy' });
  });
});
