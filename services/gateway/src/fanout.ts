import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ClientMessage, formatIssues, refuseUpgrade, WS_CLOSE } from '@quantmon/shared';
import { WebSocketServer, type WebSocket } from 'ws';
import { originAllowed, requestToken, tokenAllowed, type AccessPolicy } from './auth.js';
import { ClientTopics, type Replayer, type TopicOptions } from './client-topics.js';
import { Connection, type EncodedFrame, type FanoutStats } from './connection.js';
import { encodeBroadcast, hasSpan, sendError, sendFrame } from './frame-encoding.js';
import { proxyIdentity } from './roles.js';
import type { Broadcast } from './stream-feed.js';
import { Subscriptions } from './subscriptions.js';

export type { Replayer };

export interface FanoutOptions extends TopicOptions {
  server: Server;
  serverId: string;
  policy: AccessPolicy;
  /** Largest client message accepted, bytes (larger: close 1009). */
  maxPayload: number;
  heartbeatMs: number;
  onRejected?: (reason: 'origin' | 'unauthorized' | 'path') => void;
}

/**
 * WebSocket `/ws`: topics, snapshot or resume on subscribe, then live
 * frames. Each broadcast is serialised once into a Buffer that every
 * recipient's socket writes as is; slow recipients queue (and conflate) in
 * their own outbox. Auth and Origin are checked at the upgrade.
 */
export class Fanout {
  readonly stats: FanoutStats = {
    framesOut: 0,
    conflated: 0,
    dropped: 0,
    slowClosed: 0,
    rateLimitedClosed: 0,
  };
  private readonly wss: WebSocketServer;
  private readonly subs = new Subscriptions<Connection>();
  private readonly topics: ClientTopics;
  private readonly conns = new Set<Connection>();
  private readonly heartbeat: NodeJS.Timeout;
  private nextId = 1;
  /**
   * Open connections that take score updates with their span (not `omit:
   * ["span"]`): a count kept as they open, close and subscribe, because
   * the stream reader asks for it at every batch and a desk may hold
   * thousands of connections.
   */
  private spanTakers = 0;
  private closing: Promise<void> | undefined;
  /** Connections corked by this tick's broadcasts, uncorked together at its end. */
  private corked: Connection[] = [];
  /** Called once this tick's frames are handed to the sockets (metrics). */
  private sent: (() => void)[] = [];
  private readonly uncorkAll = (): void => {
    const corked = this.corked;
    const sent = this.sent;
    this.corked = [];
    this.sent = [];
    for (const c of corked) c.uncork();
    for (const f of sent) f();
  };

  constructor(private readonly opts: FanoutOptions) {
    this.topics = new ClientTopics(this.subs, opts);
    // Compression stays off: ws documents its memory cost under many sockets.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
    });
    opts.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    this.heartbeat = setInterval(() => this.reap(), opts.heartbeatMs);
    this.heartbeat.unref();
  }

  get connections(): number {
    return this.conns.size;
  }

  /** Whether any open connection takes score updates with their span. */
  get takesSpans(): boolean {
    return this.spanTakers > 0;
  }

  /** Frames waiting in outboxes: total and the deepest one. */
  outboxDepth(): { frames: number; max: number; backlogBytes: number } {
    let frames = 0;
    let max = 0;
    let backlogBytes = 0;
    for (const c of this.conns) {
      frames += c.outboxFrames;
      max = Math.max(max, c.outboxFrames);
      backlogBytes += c.backlogBytes;
    }
    return { frames, max, backlogBytes };
  }

  /**
   * Send one tick's broadcasts: each frame is encoded once, only if someone
   * wants it. Recipients' sockets are corked until the current job's
   * microtasks are done (process.nextTick), so every stream of one XREAD
   * reply reaches a client in one write. `onSent` runs once the frames are
   * written (handed to the kernel or queued in a slow client's outbox).
   */
  publish(batch: readonly Broadcast[], onSent?: () => void): void {
    const first = this.corked.length === 0;
    for (const b of batch) {
      // At most two encodings, each made once: with the span and without it.
      let full: EncodedFrame | undefined;
      let lean: EncodedFrame | undefined;
      const spanned = hasSpan(b);
      this.subs.forEachAudience(
        b.topic,
        (c) => {
          const enc =
            spanned && c.omitSpan
              ? (lean ??= encodedFrame(b, true))
              : (full ??= encodedFrame(b, false));
          if (c.cork()) this.corked.push(c);
          c.deliver(enc);
        },
        b.tags,
      );
    }
    if (this.corked.length === 0) {
      onSent?.();
      return;
    }
    if (onSent) this.sent.push(onSent);
    if (first) process.nextTick(this.uncorkAll);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.heartbeat);
      for (const c of this.conns) c.close(WS_CLOSE.goingAway, 'server shutting down');
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    })();
    return this.closing;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') return this.reject(socket, 404, 'not found', 'path');
    if (this.closing) return this.reject(socket, 503, 'shutting down', 'path');
    if (!originAllowed(this.opts.policy, req)) {
      this.opts.log.info({ origin: req.headers.origin }, 'websocket origin refused');
      return this.reject(socket, 403, 'origin not allowed', 'origin');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // The trusted proxy's user header identifies a browser as it does for REST.
      const policy = this.opts.policy;
      const proxied = policy.proxy ? proxyIdentity(policy.proxy, req.headers) : undefined;
      if (!proxied && !tokenAllowed(policy, requestToken(req, url))) {
        // Accept, then close with a code a browser can read (it cannot see an HTTP 401).
        this.opts.onRejected?.('unauthorized');
        ws.close(WS_CLOSE.unauthorized, 'unauthorized: missing or unknown token');
        return;
      }
      this.onConnection(ws);
    });
  }

  private reject(
    socket: Duplex,
    status: number,
    text: string,
    reason: 'origin' | 'unauthorized' | 'path',
  ): void {
    this.opts.onRejected?.(reason);
    refuseUpgrade(socket, status, text);
  }

  private onConnection(ws: WebSocket): void {
    const conn = new Connection(ws, this.nextId++, this.opts.limits, this.stats, Date.now());
    this.conns.add(conn);
    if (!conn.omitSpan) this.spanTakers++;
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data, isBinary) => this.onMessage(conn, isBinary ? null : String(data)));
    ws.on('close', () => {
      conn.closed = true;
      if (this.conns.delete(conn) && !conn.omitSpan) this.spanTakers--;
      this.subs.remove(conn);
    });
    ws.on('error', (err) => this.opts.log.debug({ err: err.message }, 'websocket error'));
    sendFrame(conn, {
      type: 'hello',
      server: this.opts.serverId,
      ts: Date.now(),
      partitions: this.opts.partitions,
    });
  }

  private onMessage(conn: Connection, text: string | null): void {
    if (conn.closed) return;
    if (!conn.bucket.take(Date.now())) {
      conn.refused++;
      if (conn.refused > this.opts.limits.clientBurst) {
        this.stats.rateLimitedClosed++;
        conn.close(WS_CLOSE.rateLimited, 'rate limited: too many messages');
        return;
      }
      return sendError(conn, 'rate limit exceeded: message ignored');
    }
    conn.refused = 0;
    if (text === null) return sendError(conn, 'binary messages are not accepted');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return sendError(conn, 'message is not valid JSON');
    }
    const parsed = ClientMessage.safeParse(json);
    if (!parsed.success) {
      return sendError(conn, `invalid message: ${formatIssues(parsed.error.issues)}`);
    }
    const msg = parsed.data;
    if (msg.type === 'ping') return sendFrame(conn, { type: 'pong', ts: Date.now() });
    const run =
      msg.type === 'subscribe'
        ? () => {
            if (msg.omit) this.setOmitSpan(conn, msg.omit.includes('span'));
            if (msg.intervalMs !== undefined) conn.setPacing(msg.intervalMs);
            return this.topics.subscribe(conn, msg.topics, msg.since);
          }
        : () => this.topics.unsubscribe(conn, msg.topics);
    conn.queue = conn.queue.then(run).catch((err: unknown) => {
      this.opts.log.warn({ err, conn: conn.id }, 'subscription handling failed');
    });
  }

  private setOmitSpan(conn: Connection, omit: boolean): void {
    if (conn.omitSpan === omit) return;
    conn.omitSpan = omit;
    if (this.conns.has(conn)) this.spanTakers += omit ? -1 : 1;
  }

  /** Terminate sockets that did not answer the last ping, ping the rest. */
  private reap(): void {
    for (const c of this.conns) {
      if (!c.alive) {
        c.closed = true;
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }
}

function encodedFrame(b: Broadcast, omitSpan: boolean): EncodedFrame {
  return {
    data: encodeBroadcast(b, omitSpan),
    key: b.key,
    stream: b.stream,
    part: b.part,
    pos: b.pos,
  };
}
