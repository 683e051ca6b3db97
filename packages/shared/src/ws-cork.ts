import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * Many WebSocket messages sent in one tick, in one socket write. ws writes
 * each message to its socket at once: a sender that answers a read of 200
 * messages, or a trading system that sends a burst, makes 200 writes, each a
 * syscall and on the other side a wake. Corked until the tick ends, Node
 * hands them to the kernel in one writev. The bench's socket client spent
 * half its CPU per message on those writes (docs/performance.md, "ninth
 * session"). A message waits at most for the rest of the current tick.
 */
const corked = new WeakSet<Duplex>();

/** ws keeps its socket private; corking it only batches writes ws makes anyway. */
export function wsSocket(ws: WebSocket): Duplex | undefined {
  const s = (ws as unknown as { _socket?: unknown })._socket;
  return s && typeof (s as Duplex).cork === 'function' ? (s as Duplex) : undefined;
}

/** Hold the socket's writes until the current tick's microtasks are done. */
export function corkForTick(socket: Duplex | undefined): void {
  if (!socket || corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  process.nextTick(() => {
    corked.delete(socket);
    socket.uncork();
  });
}
