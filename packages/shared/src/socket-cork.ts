import type { Redis } from 'ioredis';

/**
 * Fewer socket writes for the same commands. On these machines a socket
 * write, with the wake it causes in Redis and the read of its reply, costs
 * more CPU than the command it carries at moderate rates
 * (docs/performance.md, "Wakes, not work"), so commands that are issued
 * together should leave together. Both helpers cork the connection's
 * socket (Node then sends what was written meanwhile in one writev); ioredis
 * writes a command to its socket synchronously when the connection is
 * ready. A Cluster client (a socket per node) or a connection that is not
 * ready (its commands queue in ioredis) is left alone.
 */
function socketOf(redis: Redis): Redis['stream'] | undefined {
  const socket = (redis as Partial<Pick<Redis, 'stream'>>).stream;
  return redis.status === 'ready' && socket?.writable === true ? socket : undefined;
}

/** Issue one command per item, all in one socket write. */
export function corkedWrites<I, R>(
  redis: Redis,
  items: readonly I[],
  issue: (item: I) => Promise<R>,
): Promise<R>[] {
  const socket = items.length > 1 ? socketOf(redis) : undefined;
  socket?.cork();
  try {
    return items.map(issue);
  } finally {
    socket?.uncork();
  }
}

const held = new WeakSet<object>();

/**
 * Hold this connection's writes until the event loop's check phase
 * (setImmediate): commands issued by several callbacks of one loop turn
 * (the partitions of a replica, each woken by its own read) share one
 * socket write. A command waits at most for the rest of the turn.
 */
export function holdWritesForTurn(redis: Redis): void {
  const socket = socketOf(redis);
  if (!socket || held.has(socket)) return;
  held.add(socket);
  socket.cork();
  setImmediate(() => {
    held.delete(socket);
    socket.uncork();
  });
}
