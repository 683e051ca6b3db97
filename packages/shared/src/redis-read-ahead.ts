import type { Cluster, Redis } from 'ioredis';
import type { Socket } from 'node:net';

/**
 * How many bytes a Redis connection's socket may hold unread before Node
 * stops reading it: 8 MiB, above the largest reply the services ask for
 * (a full scorer read, READ_COUNT_MAX entries, is ~3 MB).
 *
 * Why: a net.Socket's readable high-water mark is 16 KiB. A reply chunk
 * larger than that (a partition's score updates are ~33 KB a read at half
 * load, a full read 64 KB a chunk) is buffered past the mark, so Node stops
 * reading the socket (uv_read_stop) and starts it again when ioredis has
 * taken the chunk, a tick later: two epoll_ctl calls and one more turn of
 * the event loop per chunk, in every XREAD follower, every read. The
 * replies are parsed as soon as they arrive (ioredis's 'data' listener), so
 * the mark never holds anything back: it only decides whether Node pauses
 * the socket in between. On hosts where every system call flushes the TLB
 * (kernel page-table isolation without PCID), a call costs the work after
 * it more than its own microseconds (docs/performance.md, "What a system
 * call and a wake cost").
 */
export const REDIS_READ_HIGH_WATER_MARK = 8 * 1024 * 1024;

interface ReadableStateHolder {
  _readableState?: { highWaterMark: number };
}

/**
 * Raise the socket's readable high-water mark (see REDIS_READ_HIGH_WATER_MARK).
 * Node offers no setter after construction and ioredis makes the socket, so
 * this sets the stream state's field, which Node's Readable reads on every
 * push (lib/internal/streams/readable.js; test/integration/redis-read-ahead
 * .test.ts fails on a Node where that stops being so). A socket without
 * that state (another runtime) is left as it is.
 */
function raiseReadMark(socket: Socket | undefined): void {
  const state = (socket as (Socket & ReadableStateHolder) | undefined)?._readableState;
  if (
    state &&
    typeof state.highWaterMark === 'number' &&
    state.highWaterMark < REDIS_READ_HIGH_WATER_MARK
  ) {
    state.highWaterMark = REDIS_READ_HIGH_WATER_MARK;
  }
}

/** ioredis keeps the current socket of a connection on `stream` (a new one per reconnect). */
function streamOf(client: Redis): Socket | undefined {
  return (client as unknown as { stream?: Socket }).stream;
}

/**
 * Every socket the client opens, now and after each reconnect, gets the
 * raised mark: on 'connect', before ioredis's ready check. A Cluster client
 * does it for each node's connection as the node appears.
 */
export function readAheadOnConnect(client: Redis | Cluster): void {
  const one = (c: Redis): void => {
    c.on('connect', () => raiseReadMark(streamOf(c)));
    raiseReadMark(streamOf(c));
  };
  if (client.isCluster) {
    const cluster = client as Cluster;
    cluster.on('+node', one);
    for (const node of cluster.nodes()) one(node);
    return;
  }
  one(client as Redis);
}
