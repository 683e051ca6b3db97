import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  ClientMessage,
  formatIssues,
  WS_CLOSE,
  type Logger,
  type ResetReason,
  type ResumePositions,
  type ResumeStream,
  type ServerFrame,
  type Topic,
} from '@quantmon/shared';
import { WebSocketServer, type WebSocket } from 'ws';
import { originAllowed, requestToken, tokenAllowed, type AccessPolicy } from './auth.js';
import { proxyIdentity } from './roles.js';
import {
  Connection,
  type ConnectionLimits,
  type EncodedFrame,
  type FanoutStats,
} from './connection.js';
import type { GatewayState } from './gateway-state.js';
import { newestOf, positionsRecord, sinceFor } from './partition-positions.js';
import type { ReplayBudget, ReplayResult } from './resume.js';
import type { Broadcast } from './stream-feed.js';
import { compareIds } from './stream-pos.js';
import { Subscriptions } from './subscriptions.js';
import { streamOf, topicMatches } from './topics.js';
import { textFrame } from './wire-frame.js';

/** What a client missed in one partition of one stream since `since`. */
export type Replayer = (
  stream: ResumeStream,
  part: number,
  since: string,
  match: (b: Broadcast) => boolean,
  budget: ReplayBudget,
) => Promise<ReplayResult>;

export interface FanoutOptions {
  server: Server;
  state: GatewayState;
  log: Logger;
  serverId: string;
  policy: AccessPolicy;
  limits: ConnectionLimits;
  /** Largest client message accepted, bytes (larger: close 1009). */
  maxPayload: number;
  heartbeatMs: number;
  /** The pipeline's partition count P. */
  partitions: number;
  replay: Replayer;
  /** Most entries read (over all partitions of a stream) to resume; beyond: `too_far_behind`. */
  replayMax: number;
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
  private readonly conns = new Set<Connection>();
  private readonly heartbeat: NodeJS.Timeout;
  private nextId = 1;
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
      let enc: EncodedFrame | undefined;
      this.subs.forEachAudience(
        b.topic,
        (c) => {
          enc ??= {
            data: encodeBroadcast(b),
            key: b.key,
            stream: b.stream,
            part: b.part,
            pos: b.pos,
          };
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
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  }

  private onConnection(ws: WebSocket): void {
    const conn = new Connection(ws, this.nextId++, this.opts.limits, this.stats, Date.now());
    this.conns.add(conn);
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data, isBinary) => this.onMessage(conn, isBinary ? null : String(data)));
    ws.on('close', () => {
      conn.closed = true;
      this.conns.delete(conn);
      this.subs.remove(conn);
    });
    ws.on('error', (err) => this.opts.log.debug({ err: err.message }, 'websocket error'));
    this.sendFrame(conn, {
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
      return this.sendError(conn, 'rate limit exceeded: message ignored');
    }
    conn.refused = 0;
    if (text === null) return this.sendError(conn, 'binary messages are not accepted');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.sendError(conn, 'message is not valid JSON');
    }
    const parsed = ClientMessage.safeParse(json);
    if (!parsed.success) {
      return this.sendError(conn, `invalid message: ${formatIssues(parsed.error.issues)}`);
    }
    const msg = parsed.data;
    if (msg.type === 'ping') return this.sendFrame(conn, { type: 'pong', ts: Date.now() });
    const run =
      msg.type === 'subscribe'
        ? () => this.subscribe(conn, msg.topics, msg.since)
        : () => this.unsubscribe(conn, msg.topics);
    conn.queue = conn.queue.then(run).catch((err: unknown) => {
      this.opts.log.warn({ err, conn: conn.id }, 'subscription handling failed');
    });
  }

  private unsubscribe(conn: Connection, topics: Topic[]): void {
    this.subs.unsubscribe(conn, topics);
    this.sendFrame(conn, { type: 'unsubscribed', topics });
  }

  /**
   * New topics get a snapshot, or with `since` for their stream (a position
   * per partition), a replay of what came after it. During a replay the
   * stream's live frames for this client are held, then released past the
   * last entry the replay read in each partition: nothing missed, nothing
   * twice. Positions that do not cover every partition get `reset`
   * (`partitioned`) and a snapshot.
   */
  private async subscribe(
    conn: Connection,
    topics: Topic[],
    since: ResumePositions | undefined,
  ): Promise<void> {
    if (conn.closed) return;
    const max = this.opts.limits.maxTopics;
    if (this.subs.countAfter(conn, topics) > max) {
      return this.sendError(
        conn,
        `subscribe refused: it would hold more than ${max} topics on this connection (GATEWAY_MAX_TOPICS); unsubscribe some or use strategy:*`,
      );
    }
    const added = this.subs.subscribe(conn, topics);
    this.sendFrame(conn, { type: 'subscribed', topics });
    const resuming = new Map<ResumeStream, { since: string[]; added: Topic[] }>();
    for (const t of added) {
      const s = streamOf(t);
      const ids = sinceFor(since?.[s], this.opts.partitions);
      if (ids === undefined) {
        this.sendSnapshot(conn, t);
        continue;
      }
      if (ids === 'partitioned') {
        this.sendFrame(conn, { type: 'reset', topic: t, reason: 'partitioned' });
        this.sendSnapshot(conn, t);
        continue;
      }
      const r = resuming.get(s) ?? { since: ids, added: [] };
      r.added.push(t);
      resuming.set(s, r);
    }
    for (const s of resuming.keys()) conn.hold(s);
    await Promise.all([...resuming].map(([s, r]) => this.resumeStream(conn, s, r.since, r.added)));
  }

  private async resumeStream(
    conn: Connection,
    stream: ResumeStream,
    since: readonly string[],
    added: Topic[],
  ): Promise<void> {
    const mine = [...this.subs.topicsOf(conn)].filter((t) => streamOf(t) === stream);
    const match = (b: Broadcast): boolean => mine.some((t) => topicMatches(t, b.topic, b.tags));
    const budget: ReplayBudget = { left: this.opts.replayMax };
    const results = await Promise.all(
      since.map(async (id, part): Promise<ReplayResult> => {
        try {
          return await this.opts.replay(stream, part, id, match, budget);
        } catch (err) {
          this.opts.log.warn({ err, stream, part }, 'resume read failed');
          return { ok: false, reason: 'unavailable' };
        }
      }),
    );
    if (conn.closed) return;
    const entries: Broadcast[] = [];
    const cutoffs: string[] = [];
    for (const r of results) {
      if (!r.ok) return this.resetStream(conn, stream, mine, r.reason);
      entries.push(...r.entries);
      cutoffs.push(r.cutoff);
    }
    // Partitions interleaved by position (within one partition, stream order).
    if (results.length > 1) entries.sort((a, b) => compareIds(a.pos, b.pos) || a.part - b.part);
    for (const e of entries) conn.sendOwn(encodeBroadcast(e));
    const at = { pos: newestOf(cutoffs), positions: { [stream]: positionsRecord(cutoffs) } };
    for (const t of added) {
      const replayed = entries.filter((e) => topicMatches(t, e.topic, e.tags)).length;
      this.sendFrame(conn, { type: 'resumed', topic: t, replayed, ...at });
    }
    conn.release(stream, cutoffs);
  }

  /**
   * Every topic of this stream starts over from a snapshot; held frames up
   * to the snapshot's positions are in it.
   */
  private resetStream(
    conn: Connection,
    stream: ResumeStream,
    topics: readonly Topic[],
    reason: ResetReason,
  ): void {
    for (const t of topics) {
      this.sendFrame(conn, { type: 'reset', topic: t, reason });
      this.sendSnapshot(conn, t);
    }
    conn.release(stream, this.opts.state.pos[stream]);
  }

  private sendSnapshot(conn: Connection, topic: Topic): void {
    this.sendFrame(conn, { type: 'snapshot', topic, ...this.opts.state.snapshot(topic) });
  }

  private sendError(conn: Connection, message: string): void {
    this.sendFrame(conn, { type: 'error', message });
  }

  private sendFrame(conn: Connection, frame: ServerFrame): void {
    conn.sendOwn(encode(frame));
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

/** JSON, framed for the wire once (see wire-frame.ts). */
function encode(frame: ServerFrame): Buffer {
  return textFrame(Buffer.from(JSON.stringify(frame)));
}

/**
 * A data frame around the entry's JSON as the stream holds it (written by
 * the service that owns the stream, and checked when decoded): the same
 * text JSON.stringify would give, without serialising the message again.
 */
function encodeBroadcast(b: Broadcast): Buffer {
  const f = b.frame;
  if (b.raw === undefined || !('data' in f)) return encode(f);
  const part = f.part === undefined ? '' : `,"part":${f.part}`;
  return textFrame(
    Buffer.from(
      `{"type":${JSON.stringify(f.type)},"pos":${JSON.stringify(f.pos)}${part},"data":${b.raw}}`,
    ),
  );
}
