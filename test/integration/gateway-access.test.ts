import { WS_CLOSE } from '@quantmon/shared';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { startService, type RunningService } from '../helpers/services.js';

/** What a WebSocket connection attempt ended with: the upgrade's HTTP status, or open then a close code. */
function attempt(
  url: string,
  opts: WebSocket.ClientOptions = {},
  waitMs = 1000,
): Promise<{ status?: number; opened: boolean; close?: number; reason?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, opts);
    let opened = false;
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, opened: false });
      ws.terminate();
    });
    ws.on('error', () => undefined);
    ws.on('open', () => {
      opened = true;
      setTimeout(() => {
        if (ws.readyState === ws.OPEN) {
          resolve({ opened });
          ws.close();
        }
      }, waitMs);
    });
    ws.on('close', (code, reason) => resolve({ opened, close: code, reason: String(reason) }));
  });
}

/**
 * Who may connect: tokens (query parameter or Bearer header), the Origin
 * allow-list, and reaping of clients that stop answering pings.
 */
describe('gateway access control and heartbeats', () => {
  let redisServer: TestRedis;
  let gateway: RunningService;
  const token = 's3cret-token';

  beforeAll(async () => {
    redisServer = await startTestRedis();
    gateway = await startService('gateway', {
      REDIS_URL: redisServer.url,
      QUANTMON_PREFIX: uniquePrefix('gwa'),
      GATEWAY_TOKENS: `other, ${token}`,
      GATEWAY_ALLOWED_ORIGINS: 'https://dash.example.com',
      GATEWAY_HEARTBEAT_MS: '200',
    });
  });

  afterAll(async () => {
    const code = await gateway?.stop();
    await redisServer?.dispose();
    expect(code).toBe(0);
  });

  const url = (q = ''): string => `ws://127.0.0.1:${gateway.port}/ws${q}`;

  it('closes a connection without a valid token with 4401, and accepts query or header tokens', async () => {
    expect(await attempt(url())).toMatchObject({ opened: true, close: WS_CLOSE.unauthorized });
    expect(await attempt(url('?token=wrong'))).toMatchObject({ close: WS_CLOSE.unauthorized });
    expect(await attempt(url(`?token=${token}`), {}, 300)).toEqual({
      opened: true,
      close: undefined,
    });
    expect(await attempt(url(), { headers: { authorization: `Bearer ${token}` } }, 300)).toEqual({
      opened: true,
      close: undefined,
    });
    // The gateway is still up and REST asks for the same token.
    const base = `http://127.0.0.1:${gateway.port}`;
    expect((await fetch(`${base}/api/summary`)).status).toBe(401);
    expect((await fetch(`${base}/api/summary?token=${token}`)).status).toBe(200);
    expect(
      (await fetch(`${base}/api/strategies`, { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/api/openapi.json`)).status).toBe(200);
  });

  it('refuses an Origin outside the allow-list with HTTP 403 at the upgrade', async () => {
    const q = `?token=${token}`;
    expect(await attempt(url(q), { headers: { origin: 'https://evil.example.com' } })).toEqual({
      status: 403,
      opened: false,
    });
    expect(await attempt(url(q), { headers: { origin: 'https://dash.example.com' } }, 300)).toEqual(
      { opened: true, close: undefined },
    );
    // No Origin: not a browser page, allowed.
    expect(await attempt(url(q), {}, 300)).toEqual({ opened: true, close: undefined });
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.port}/metrics`)).text();
    expect(metrics).toMatch(/quantmon_gateway_rejected_total\{reason="origin"[^}]*\} 1/);
    expect(metrics).toMatch(/quantmon_gateway_rejected_total\{reason="unauthorized"[^}]*\} 2/);
  });

  it('reaps a client that stops answering pings, and keeps one that answers', async () => {
    const deaf = new WebSocket(url(`?token=${token}`), { autoPong: false });
    const alive = new WebSocket(url(`?token=${token}`));
    let pings = 0;
    alive.on('ping', () => pings++);
    const deafClosed = new Promise<number>((r) => deaf.on('close', (code) => r(code)));
    await new Promise((r) => alive.once('open', r));
    // Terminated without a close frame: the client sees 1006.
    expect(await deafClosed).toBe(1006);
    await new Promise((r) => setTimeout(r, 600));
    expect(alive.readyState).toBe(WebSocket.OPEN);
    expect(pings).toBeGreaterThanOrEqual(2);
    alive.close();
  });
});
