import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from './logger.js';
import type { RequestHead } from './http1-head.js';
import { FastConnection } from './fast-connection.js';

/**
 * A fast path beside Node's HTTP server for one hot request, a trading
 * system posting one sample per request, pipelined on keep-alive sockets.
 *
 * Why: under 16 x 16 pipelined single-sample posts, Node's HTTP server
 * alone took ~25 µs of CPU per request on a 2-core host (its request and
 * response objects, header objects, streams and events), more than the
 * rest of the pipeline spends on the sample; the same requests read off
 * the socket and answered with prepared bytes took ~3.5 µs
 * (docs/performance.md, "A fast path for single-sample posts").
 *
 * How: the server's connections come here first. Requests whose head
 * parses plainly (http1-head.ts) and that a route takes are read off the
 * socket, answered by the route, and their answers written in request
 * order, those ready in the same turn in one write. The first request
 * that is anything else (another path, a chunked body, an upgrade, a
 * malformed head, a body over the route's limit) hands the connection to
 * Node's server for good: once every answer before it has been written,
 * the unread bytes are put back on the socket and Node's own connection
 * handler takes it, so Node parses and answers from that request on,
 * exactly as without the fast path.
 *
 * What holds: answers leave in request order; a connection with more than
 * MAX_PENDING unanswered requests stops reading until they are answered
 * (backpressure, as Node's server pauses a socket with answers queued);
 * `Connection: close` is answered and then closed; a client that
 * half-closes gets the answers of what the fast path took, then the
 * close (Node's server answers none of a half-closed pipeline); a
 * connection idle for the server's `keepAliveTimeout`, or whose request
 * has been arriving for longer than its `headersTimeout` (the head) or
 * `requestTimeout` (the whole request), is closed.
 */

export interface FastAnswer {
  status: number;
  body: Buffer;
  /** Extra headers (lower-case names), e.g. `retry-after`. */
  headers?: Record<string, string>;
}

/**
 * A request the fast path answers. The answer comes from `answer` (the
 * answer, or a promise of it) or from `answerTo`, which calls `reply` once
 * with the answer, or with none and the handler's error (answered 500).
 * Why the callback form: each level of async functions a request passes
 * through allocates a promise, closures and a saved frame for it, and the
 * hot route takes tens of thousands of requests a second
 * (docs/performance.md, "Single-sample posts with callbacks").
 */
export type FastRoute = FastRouteMatch &
  (
    | {
        answer(head: RequestHead, body: Buffer): FastAnswer | Promise<FastAnswer>;
        answerTo?: never;
      }
    | { answerTo(head: RequestHead, body: Buffer, reply: FastReply): void; answer?: never }
  );

export interface FastRouteMatch {
  /** Whether this route answers a request with this head. */
  takes(head: RequestHead): boolean;
  /** Bodies declared longer are left to Node's server (the route's slow path answers 413). */
  maxBytes: number;
}

/** How a callback route answers: the answer, or none and the error. */
export type FastReply = (answer: FastAnswer | undefined, err?: unknown) => void;

type ConnectionListener = (this: Server, socket: Socket) => void;

/**
 * Why a connection went to Node's server: its request's head was not
 * plain (`not-plain`), no fast route takes the request (`other-request`),
 * or its body is over the route's limit (`over-limit`).
 */
export type HandOverReason = 'not-plain' | 'other-request' | 'over-limit';

/** The fast path of one server: its routes, and its open connections for shutdown. */
export class FastHttp {
  private readonly open = new Set<FastConnection>();
  private closing = false;

  constructor(
    readonly server: Server,
    readonly routes: readonly FastRoute[],
    readonly log: Logger,
    /** Node's own connection handler, for connections handed over. */
    readonly nodeListener: ConnectionListener,
    /** Hears of each connection handed to Node's server (a metric). */
    readonly onHandOver?: (reason: HandOverReason) => void,
  ) {}

  /**
   * Put the fast path in front of Node's handler on `server`: its
   * 'connection' listener (there is one, Node's) is replaced by ours.
   */
  static install(
    server: Server,
    routes: readonly FastRoute[],
    log: Logger,
    onHandOver?: (reason: HandOverReason) => void,
  ): FastHttp {
    const listeners = server.listeners('connection') as ConnectionListener[];
    if (listeners.length !== 1) {
      throw new Error(
        `fast path: expected Node's one connection listener, found ${listeners.length}`,
      );
    }
    const nodeListener = listeners[0]!;
    const fast = new FastHttp(server, routes, log, nodeListener, onHandOver);
    server.removeListener('connection', nodeListener);
    server.on('connection', (socket: Socket) => fast.accept(socket));
    return fast;
  }

  accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new FastConnection(this, socket);
    this.open.add(conn);
  }

  /** Called by a connection when it closes or is handed to Node. */
  forget(conn: FastConnection): void {
    this.open.delete(conn);
  }

  /** At shutdown: idle connections close now, busy ones once answered. */
  closeIdle(): void {
    this.closing = true;
    for (const c of this.open) c.closeWhenIdle();
  }

  /** At shutdown's deadline: every connection still open is destroyed. */
  closeAll(): void {
    for (const c of this.open) c.destroy();
  }
}
