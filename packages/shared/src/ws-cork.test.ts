import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { corkForTick, wsSocket } from './ws-cork.js';

/** Socket writes the stream hands down (one per chunk, or one writev for what a cork held). */
function countWrites(socket: Duplex): { writes: number } {
  const seen = { writes: 0 };
  const s = socket as Duplex & Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
  for (const k of ['_write', '_writev'] as const) {
    const orig = s[k];
    if (typeof orig !== 'function') continue;
    s[k] = function (this: unknown, ...a: unknown[]) {
      seen.writes++;
      return orig.apply(this, a);
    };
  }
  return seen;
}

describe('corkForTick', () => {
  let wss: WebSocketServer | undefined;
  afterEach(() => new Promise<void>((r) => (wss ? wss.close(() => r()) : r())));

  /** A server that collects text messages; a client connected to it. */
  async function pair(): Promise<{
    client: WebSocket;
    got: string[];
    until: (n: number) => Promise<void>;
  }> {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss!.once('listening', r));
    const got: string[] = [];
    const waiters: (() => void)[] = [];
    wss.on('connection', (ws) =>
      ws.on('message', (d) => {
        got.push(String(d));
        for (const w of waiters.splice(0)) w();
      }),
    );
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    await new Promise((r) => client.once('open', r));
    const until = async (n: number): Promise<void> => {
      while (got.length < n) await new Promise<void>((r) => waiters.push(r));
    };
    return { client, got, until };
  }

  it('sends one tick of messages in one socket write, in order', async () => {
    const { client, got, until } = await pair();
    const raw = wsSocket(client);
    expect(raw).toBeDefined();
    const seen = countWrites(raw!);
    for (let i = 0; i < 300; i++) {
      corkForTick(raw);
      client.send(`m${i}`);
    }
    await until(300);
    expect(seen.writes).toBe(1);
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => `m${i}`));
    client.close();
  });

  it('uncorks at the end of the tick: the next tick writes again', async () => {
    const { client, until } = await pair();
    const raw = wsSocket(client)!;
    const seen = countWrites(raw);
    corkForTick(raw);
    client.send('a');
    client.send('b');
    await until(2);
    corkForTick(raw);
    client.send('c');
    await until(3);
    expect(seen.writes).toBe(2);
    // Without it, every message is a write of its own (what the helper saves).
    for (let i = 0; i < 10; i++) client.send(`x${i}`);
    await until(13);
    expect(seen.writes).toBe(12);
    client.close();
  });

  it('leaves a missing socket alone', () => {
    expect(() => corkForTick(undefined)).not.toThrow();
  });
});
