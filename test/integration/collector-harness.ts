import { request, Agent } from 'node:http';
import type { Server } from 'node:http';
import {
  appendSamples,
  closeHttpServer,
  createLogger,
  createRegistry,
  keysFor,
  listeningPort,
  startHttpServer,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { LagGate, readScorerLag } from '../../services/collector/src/backpressure.js';
import { handleIngest } from '../../services/collector/src/ingest.js';

export interface IngestServerOptions {
  redis: Redis;
  prefix: string;
  tokens?: string[];
  maxBatch?: number;
  maxBytes?: number;
  toleranceMs?: number;
  maxLag?: number;
  lagCheckMs?: number;
}

export interface IngestServer {
  url: string;
  server: Server;
  statuses: number[];
  close(): Promise<void>;
}

/** The collector's ingest route, wired as main.ts wires it, in this process. */
export async function startIngestServer(o: IngestServerOptions): Promise<IngestServer> {
  const keys = keysFor(o.prefix);
  const gate = new LagGate({
    maxLag: o.maxLag ?? 0,
    cacheMs: o.lagCheckMs ?? 0,
    read: () => readScorerLag(o.redis, keys),
  });
  const statuses: number[] = [];
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    log: createLogger('collector-test', 'silent'),
    registry: createRegistry('collector-test'),
    health: () => ({ ok: true }),
    routes: [
      async (req, res, url) => {
        if (url.pathname !== '/v1/samples') return false;
        await handleIngest(req, res, {
          tokens: o.tokens ?? [],
          maxBatch: o.maxBatch ?? 10_000,
          maxBytes: o.maxBytes ?? 5 * 1024 * 1024,
          write: (samples) =>
            appendSamples(o.redis, o.prefix, samples, { orderToleranceMs: o.toleranceMs ?? 0 }),
          backpressure: () => gate.check(),
          onRejected: (s) => statuses.push(s),
          onAccepted: () => statuses.push(202),
        });
        return true;
      },
    ],
  });
  return {
    url: `http://127.0.0.1:${listeningPort(server)}/v1/samples`,
    server,
    statuses,
    close: () => closeHttpServer(server),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/**
 * POST with node:http (full control: no content-type, chunked bodies,
 * raw bytes), over a keep-alive agent.
 */
export function rawPost(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/json' },
  opts: { chunked?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: opts.chunked
          ? headers
          : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.chunked) {
      const buf = Buffer.from(body);
      for (let i = 0; i < buf.length; i += 64 * 1024) req.write(buf.subarray(i, i + 64 * 1024));
      req.end();
    } else {
      req.end(body);
    }
  });
}
