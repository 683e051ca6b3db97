import { request, Agent } from 'node:http';
import type { Server } from 'node:http';
import {
  appendSamples,
  closeHttpServer,
  createLogger,
  createRegistry,
  DATA_FIELD,
  ensurePartitionCount,
  keysFor,
  listeningPort,
  partitionOf,
  startHttpServer,
  StrategySample,
} from '@quantmon/shared';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { LagGate, readScorerLag } from '../../services/collector/src/backpressure.js';
import { handleIngest, type IngestOptions } from '../../services/collector/src/ingest.js';
import { ingestFastRoute } from '../../services/collector/src/ingest-fast.js';
import { INGEST_SOCKET_PATH, IngestSockets } from '../../services/collector/src/ingest-socket.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';

export interface IngestServerOptions {
  redis: Redis;
  prefix: string;
  tokens?: string[];
  maxBatch?: number;
  maxBytes?: number;
  toleranceMs?: number;
  /** INGEST_MAX_FUTURE_MS. */
  maxFutureMs?: number;
  maxLag?: number;
  lagCheckMs?: number;
  /** The pipeline's partition count (default 4, so every test spans partitions). */
  partitions?: number;
  /** Store the partition count in Redis first, as main.ts does (default true; false for a dead Redis). */
  storePartitionCount?: boolean;
  /** REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT_MS. */
  replicaWait?: { replicas: number; timeoutMs: number };
  /** The ingest socket's flow-control limits (defaults: main.ts's). */
  socket?: { maxPending?: number; maxBufferedBytes?: number; heartbeatMs?: number };
  /** Runs before each write (a test holds writes back with it). */
  beforeWrite?: () => Promise<void>;
  /** INGEST_FAST_PATH (default true, as in main.ts); false: every request through Node's server. */
  fastPath?: boolean;
}

/**
 * A test file's Redis (started before its tests, stopped after them) and
 * its ingest servers: `start` wires one under a fresh prefix (`tag`-...),
 * closed with the file.
 */
export function ingestSuite(tag: string): {
  readonly redis: Redis;
  start(
    opts?: Omit<IngestServerOptions, 'redis' | 'prefix'>,
  ): Promise<{ srv: IngestServer; prefix: string; keys: ReturnType<typeof keysFor> }>;
  /** Close a server the test started itself with the suite's. */
  adopt(srv: IngestServer): IngestServer;
} {
  let redisServer: TestRedis | undefined;
  let redis: Redis | undefined;
  const servers: IngestServer[] = [];
  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    redis?.disconnect();
    await redisServer?.dispose();
  });
  return {
    get redis(): Redis {
      if (!redis) throw new Error('ingestSuite: Redis is not started yet (use it inside a test)');
      return redis;
    },
    async start(opts = {}) {
      const prefix = uniquePrefix(tag);
      const srv = await startIngestServer({ redis: this.redis, prefix, ...opts });
      servers.push(srv);
      return { srv, prefix, keys: keysFor(prefix) };
    },
    adopt(srv) {
      servers.push(srv);
      return srv;
    },
  };
}

/** The partition count the ingest tests run with unless they say otherwise. */
export const TEST_PARTITIONS = 4;

export interface IngestServer {
  url: string;
  /** ws://.../v1/samples/ws */
  socketUrl: string;
  sockets: IngestSockets;
  /** Replace INGEST_TOKENS (as a restart with other settings would). */
  setTokens(tokens: string[]): void;
  server: Server;
  partitions: number;
  statuses: number[];
  close(): Promise<void>;
}

/** The collector's ingest route, wired as main.ts wires it, in this process. */
export async function startIngestServer(o: IngestServerOptions): Promise<IngestServer> {
  const keys = keysFor(o.prefix);
  const partitions =
    o.storePartitionCount === false
      ? (o.partitions ?? TEST_PARTITIONS)
      : await ensurePartitionCount(o.redis, keys, o.partitions ?? TEST_PARTITIONS);
  const gate = new LagGate({
    maxLag: o.maxLag ?? 0,
    cacheMs: o.lagCheckMs ?? 0,
    read: () => readScorerLag(o.redis, keys, partitions),
  });
  const statuses: number[] = [];
  const ingest: IngestOptions = {
    tokens: o.tokens ?? [],
    maxBatch: o.maxBatch ?? 10_000,
    maxBytes: o.maxBytes ?? 5 * 1024 * 1024,
    maxFutureMs: o.maxFutureMs ?? 0,
    submit: (samples, done) => {
      // Queued in call order even when held back (main.ts's group commit queues synchronously).
      const held = o.beforeWrite?.();
      (held ? held.then(() => appendOnce(samples)) : appendOnce(samples)).then(
        (r) => done(null, r),
        (err: unknown) => done(err),
      );
    },
    backpressure: () => gate.check(),
    onRejected: (s) => statuses.push(s),
    onAccepted: () => statuses.push(202),
  };
  const appendOnce = (samples: StrategySample[]) =>
    appendSamples(o.redis, o.prefix, samples, {
      partitions,
      replicaWait: o.replicaWait,
      orderToleranceMs: o.toleranceMs ?? 0,
    });
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    log: createLogger('collector-test', 'silent'),
    registry: createRegistry('collector-test'),
    health: () => ({ ok: true }),
    fastRoutes: o.fastPath === false ? [] : [ingestFastRoute(ingest)],
    routes: [
      async (req, res, url) => {
        if (url.pathname !== '/v1/samples') return false;
        await handleIngest(req, res, ingest);
        return true;
      },
    ],
  });
  const sockets = new IngestSockets({
    server,
    ingest,
    log: createLogger('collector-test', 'silent'),
    maxPending: o.socket?.maxPending ?? 4096,
    maxBufferedBytes: o.socket?.maxBufferedBytes ?? 1024 * 1024,
    heartbeatMs: o.socket?.heartbeatMs ?? 30_000,
    closeWaitMs: 5_000,
  });
  const port = listeningPort(server);
  return {
    url: `http://127.0.0.1:${port}/v1/samples`,
    socketUrl: `ws://127.0.0.1:${port}${INGEST_SOCKET_PATH}`,
    sockets,
    setTokens: (tokens) => {
      ingest.tokens = tokens;
    },
    server,
    partitions,
    statuses,
    close: async () => {
      await sockets.close();
      await closeHttpServer(server);
    },
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

/** Every strategy sample of one partition's stream, in stream order. */
export async function partitionSamples(
  redis: Redis,
  prefix: string,
  partition: number,
): Promise<StrategySample[]> {
  const entries = await redis.xrange(
    keysFor(prefix).partition(partition).strategySamples,
    '-',
    '+',
  );
  return entries.map(([, f]) => StrategySample.parse(JSON.parse(f[f.indexOf(DATA_FIELD) + 1]!)));
}

/** Every strategy sample of the pipeline, partition by partition (stream order within each). */
export async function allSamples(
  redis: Redis,
  prefix: string,
  partitions: number,
): Promise<StrategySample[]> {
  const out: StrategySample[] = [];
  for (let p = 0; p < partitions; p++) out.push(...(await partitionSamples(redis, prefix, p)));
  return out;
}

/** The samples of one strategy, in stream order (its partition's stream). */
export async function strategySamples(
  redis: Redis,
  prefix: string,
  partitions: number,
  strategy: string,
): Promise<StrategySample[]> {
  return (await partitionSamples(redis, prefix, partitionOf(strategy, partitions))).filter(
    (s) => s.strategy === strategy,
  );
}

/**
 * Strategy ids `<label>-<k>` picked so that each of the P partitions holds
 * `perPartition` of them (whatever the partition hash), in partition order.
 */
export function strategiesCovering(label: string, partitions: number, perPartition = 1): string[] {
  const byPartition: string[][] = Array.from({ length: partitions }, () => []);
  for (let k = 0; byPartition.some((l) => l.length < perPartition); k++) {
    const id = `${label}-${k}`;
    const list = byPartition[partitionOf(id, partitions)]!;
    if (list.length < perPartition) list.push(id);
  }
  return byPartition.flat();
}
