import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of Redis for fault injection: it can swallow Redis's
 * replies (the command still runs) and cut every connection, which is what
 * a client sees when Redis answered but the answer was lost on the way.
 */
export interface TcpProxy {
  url: string;
  /** While true, bytes from Redis to the client are dropped. */
  dropReplies: boolean;
  /** Destroy every proxied connection (clients reconnect through the proxy). */
  cutAll: () => void;
  close: () => Promise<void>;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', end);
      s.on('error', end);
    }
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (!proxy.dropReplies) client.write(d);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const proxy: TcpProxy = {
    url: `redis://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    dropReplies: false,
    cutAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      proxy.cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
