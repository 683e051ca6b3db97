import { existsSync } from 'node:fs';
import { freePort, spawnRedisServer, waitForRedis } from '../../scripts/local-redis.js';

export { freePort };

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

function dockerReachable(): boolean {
  return Boolean(process.env['DOCKER_HOST']) || existsSync('/var/run/docker.sock');
}

async function spawnRedis(): Promise<TestRedis> {
  // appendfsync always: tests stop and restart it and expect every acked write back.
  const r = await spawnRedisServer({ persistence: 'aof-always' });
  return {
    url: r.url,
    port: r.port,
    kind: 'spawned',
    start: r.start,
    stop: r.stop,
    dispose: r.dispose,
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
      await waitForRedis(url);
    },
    dispose: async () => {
      await container.stop();
    },
  };
}

export async function startTestRedis(): Promise<TestRedis> {
  const external = process.env['REDIS_URL'];
  if (external) {
    await waitForRedis(external);
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
