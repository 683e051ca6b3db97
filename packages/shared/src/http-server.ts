import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { coalesceIfPipelined } from './pipelined-answers.js';
import { FastHttp, type FastRoute, type HandOverReason } from './fast-http.js';

export type Route = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) => boolean | Promise<boolean>;

export interface HealthCheck {
  /** Name -> ok. Any false answers 503. */
  (): Record<string, boolean>;
}

export interface HttpServerOptions {
  port: number;
  host: string;
  log: Logger;
  registry: Registry;
  health: HealthCheck;
  /** More to show in /healthz (the replica id, the partitions it owns). */
  info?: () => Record<string, unknown>;
  /** Tried in order; a route returns true when it answered. */
  routes?: Route[];
  /**
   * Requests answered before Node's HTTP server sees them (fast-http.ts):
   * plain pipelined posts to one hot path. Anything a fast route does not
   * take goes on to `routes` through Node's server, as without them.
   */
  fastRoutes?: FastRoute[];
  /** Hears of each connection the fast path handed to Node's server, and why. */
  onFastHandOver?: (reason: HandOverReason) => void;
}

/** The fast path of each server that has one, for closeHttpServer. */
const fastPaths = new WeakMap<Server, FastHttp>();

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  // Encoded once: its length is the buffer's, and the socket takes the bytes as they are.
  sendJsonBytes(res, status, Buffer.from(JSON.stringify(body)), headers);
}

/** A JSON answer already encoded (an answer made once and sent many times). */
export function sendJsonBytes(
  res: ServerResponse,
  status: number,
  payload: Buffer,
  headers?: Record<string, string>,
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': payload.length,
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

/**
 * Parsed request targets without a query, by their text: the same few
 * (`/v1/samples`, `/healthz`) come back on every request, and `new URL`
 * was ~3 % of the collector's CPU on single-sample posts. Routes only read
 * a URL (pathname, searchParams), so one object serves every request for
 * its target. At most URL_CACHE_MAX targets are kept, so a client sending
 * random paths cannot grow it; a target with a query is parsed each time.
 */
const URL_CACHE_MAX = 256;
const urls = new Map<string, URL>();

export function requestUrl(target: string | undefined): URL {
  const t = target ?? '/';
  const known = urls.get(t);
  if (known) return known;
  const url = new URL(t, 'http://localhost');
  if (!t.includes('?') && urls.size < URL_CACHE_MAX) urls.set(t, url);
  return url;
}

/**
 * A JSON body written as it is produced, piece by piece (chunked
 * transfer), waiting for the socket to drain between pieces: a large
 * document (every strategy's latest state) never sits in memory whole.
 * Stops early when the client goes away.
 */
export async function sendJsonPieces(
  res: ServerResponse,
  status: number,
  pieces: Iterable<string>,
  headers: Record<string, string> = {},
): Promise<void> {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  for (const piece of pieces) {
    if (res.destroyed) return;
    if (!res.write(piece)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  if (!res.destroyed) res.end();
}

/**
 * The HTTP face every service shares: `/healthz`, `/metrics` and the
 * service's own routes. Handler errors answer 500 and are logged; they never
 * take the process down.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<Server> {
  const { log, registry } = opts;
  const server = createServer((req, res) => {
    // A client pipelining requests gets its answers in one write per turn.
    coalesceIfPipelined(req, res);
    void handle(req, res).catch((err: unknown) => {
      log.error({ err, url: req.url }, 'request handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req.url);
    if (req.method === 'GET' && url.pathname === '/healthz') {
      const checks = opts.health();
      const ok = Object.values(checks).every(Boolean);
      sendJson(res, ok ? 200 : 503, {
        status: ok ? 'ok' : 'unavailable',
        checks,
        // Which process answered: a supervisor, an orchestrator or a test can
        // tell its own child from another process that holds the port.
        pid: process.pid,
        ...opts.info?.(),
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/metrics') {
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
      return;
    }
    for (const route of opts.routes ?? []) {
      if (await route(req, res, url)) return;
    }
    sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
  }
  server.keepAliveTimeout = 65_000;
  if (opts.fastRoutes?.length)
    fastPaths.set(server, FastHttp.install(server, opts.fastRoutes, log, opts.onFastHandOver));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** Stop accepting, let in-flight requests finish, then drop idle keep-alive sockets. */
export function closeHttpServer(server: Server): Promise<void> {
  const fast = fastPaths.get(server);
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    fast?.closeIdle();
    setTimeout(() => {
      server.closeAllConnections();
      fast?.closeAll();
    }, 2000).unref();
  });
}

/**
 * Refuse a WebSocket upgrade with a plain HTTP answer (a client that never
 * got its 101 reads this status), then close the socket.
 */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

/** The port a server actually listens on (for port 0 in tests). */
export function listeningPort(server: Server): number {
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}
