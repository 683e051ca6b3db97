import type { Server } from 'node:http';
import {
  ClientMessage,
  formatIssues,
  type Logger,
  type ServerFrame,
  type Topic,
} from '@quantmon/shared';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GatewayState } from './gateway-state.js';
import { Subscriptions } from './subscriptions.js';

export interface FanoutOptions {
  server: Server;
  state: GatewayState;
  log: Logger;
  serverId: string;
  /** Largest client message accepted, bytes. */
  maxPayload?: number;
  /** A client whose unsent backlog passes this is closed (it resumes on reconnect). */
  maxBufferedBytes?: number;
  heartbeatMs?: number;
  onFrames?: (n: number) => void;
  onSlowClose?: () => void;
}

/** Close code for a client that cannot keep up (RFC 6455 1013: try again later). */
export const CLOSE_SLOW = 1013;

interface Client {
  ws: WebSocket;
  alive: boolean;
}

/**
 * WebSocket `/ws`: subscribe/unsubscribe by topic, a snapshot on subscribe,
 * then live frames. Each broadcast is serialised once and the same string is
 * written to every subscriber.
 */
export class Fanout {
  private readonly wss: WebSocketServer;
  private readonly subs = new Subscriptions<Client>();
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxBuffered: number;

  constructor(private readonly opts: FanoutOptions) {
    this.maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
    // Compression stays off: ws documents its memory cost under many sockets.
    this.wss = new WebSocketServer({
      server: opts.server,
      path: '/ws',
      maxPayload: opts.maxPayload ?? 64 * 1024,
      perMessageDeflate: false,
    });
    this.wss.on('connection', (ws) => this.onConnection(ws));
    this.heartbeat = setInterval(() => this.reap(), opts.heartbeatMs ?? 30_000);
    this.heartbeat.unref();
  }

  get connections(): number {
    return this.wss.clients.size;
  }

  publish(topic: Topic, frame: ServerFrame): void {
    const audience = this.subs.audience(topic);
    if (audience.size === 0) return;
    const text = JSON.stringify(frame);
    for (const client of audience) this.send(client, text);
    this.opts.onFrames?.(audience.size);
  }

  close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(ws: WebSocket): void {
    const client: Client = { ws, alive: true };
    this.clients.add(client);
    ws.on('pong', () => (client.alive = true));
    ws.on('message', (data, isBinary) => this.onMessage(client, isBinary ? null : data.toString()));
    ws.on('close', () => {
      this.clients.delete(client);
      this.subs.remove(client);
    });
    ws.on('error', (err) => this.opts.log.debug({ err: err.message }, 'websocket error'));
    this.sendFrame(client, { type: 'hello', server: this.opts.serverId, ts: Date.now() });
  }

  private onMessage(client: Client, text: string | null): void {
    if (text === null)
      return this.sendFrame(client, { type: 'error', message: 'binary messages are not accepted' });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.sendFrame(client, { type: 'error', message: 'message is not valid JSON' });
    }
    const parsed = ClientMessage.safeParse(json);
    if (!parsed.success) {
      return this.sendFrame(client, {
        type: 'error',
        message: `invalid message: ${formatIssues(parsed.error.issues)}`,
      });
    }
    const msg = parsed.data;
    if (msg.type === 'ping') return this.sendFrame(client, { type: 'pong', ts: Date.now() });
    if (msg.type === 'unsubscribe') {
      this.subs.unsubscribe(client, msg.topics);
      return this.sendFrame(client, { type: 'unsubscribed', topics: msg.topics });
    }
    const added = this.subs.subscribe(client, msg.topics);
    this.sendFrame(client, { type: 'subscribed', topics: msg.topics });
    for (const topic of added)
      this.sendFrame(client, { type: 'snapshot', topic, ...this.opts.state.snapshot(topic) });
  }

  private sendFrame(client: Client, frame: ServerFrame): void {
    this.send(client, JSON.stringify(frame));
  }

  private send(client: Client, text: string): void {
    const ws = client.ws;
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > this.maxBuffered) {
      this.opts.onSlowClose?.();
      ws.close(CLOSE_SLOW, 'client too slow: reconnect to resume');
      return;
    }
    ws.send(text);
  }

  /** Terminate sockets that did not answer the last ping. */
  private reap(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }
}
