import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A Redis for one test file. In order of preference:
 * 1. REDIS_URL, when the runner sets it (nothing can be stopped then);
 * 2. a container from testcontainers, when a Docker engine is reachable;
 * 3. a redis-server spawned on a free port with its own data folder.
 * Never the machine's shared Redis on 6379 by accident.
 */
export interface TestRedis {
  url: string;
  port: number;
  /** 'external' cannot be stopped or restarted. */
  kind: 'external' | 'container' | 'spawned';
  /** Stop the server (data is kept on disk with AOF for restart). */
  stop(): Promise<void>;
  /** Start it again on the same port, with the same data. */
  start(): Promise<void>;
  /** Stop for good and remove its data. */
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    r.on('error', () => undefined);
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return;
    } catch (err) {
      r.disconnect();
      if (Date.now() > deadline) {
        throw new Error(`redis at ${url} not reachable: ${(err as Error).message}`, { cause: err });
      }
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}

function dockerReachable(): boolean {
  return Boolean(process.env['DOCKER_HOST']) || existsSync('/var/run/docker.sock');
}

async function spawnRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'quantmon-test-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    child.once('error', (err) => {
      throw new Error(`cannot spawn redis-server (apt-get install redis-server): ${err.message}`);
    });
    await waitForPing(url);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();
  return {
    url,
    port,
    kind: 'spawned',
    start,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function containerRedis(): Promise<TestRedis> {
  const { GenericContainer } = await import('testcontainers');
  const container = await new GenericContainer('redis:7-alpine')
    .withCommand(['redis-server', '--appendonly', 'yes'])
    .withExposedPorts(6379)
    .start();
  const port = container.getMappedPort(6379);
  const url = `redis://${container.getHost()}:${port}`;
  return {
    url,
    port,
    kind: 'container',
    stop: async () => {
      await container.stop({ remove: false });
    },
    start: async () => {
      await container.restart();
      await waitForPing(url);
    },
    dispose: async () => {
      await container.stop();
    },
  };
}

export async function startTestRedis(): Promise<TestRedis> {
  const external = process.env['REDIS_URL'];
  if (external) {
    await waitForPing(external);
    const port = Number(new URL(external).port || 6379);
    const no = async (): Promise<void> => {
      throw new Error('cannot stop an external REDIS_URL');
    };
    return {
      url: external,
      port,
      kind: 'external',
      stop: no,
      start: no,
      dispose: async () => undefined,
    };
  }
  if (dockerReachable()) {
    try {
      return await containerRedis();
    } catch {
      // no usable engine behind the socket: fall through to a local server
    }
  }
  return spawnRedis();
}

/** A key prefix no other test shares. */
export function uniquePrefix(label = 't'): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}
let counter = 0;
