import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  loadAlerterConfig,
  loadCollectorConfig,
  loadGatewayConfig,
  loadHistorianConfig,
  loadScorerConfig,
  type CommonConfig,
} from '@quantmon/shared';
import { describe, expect, it, type TestContext } from 'vitest';
import { parse } from 'yaml';
import { LAZYFREE_ARGS } from '../../scripts/local-redis.js';

/**
 * The compose files as compose itself resolves them (`docker-compose config`:
 * anchors, merges and the override applied), checked for what
 * `docker compose up --scale scorer=3 --scale alerter=2 --scale gateway=3`
 * needs. No Docker engine is needed, only the compose CLI.
 */

const root = resolve(import.meta.dirname, '../..');
const BASE = ['docker-compose.yml'];
const CLUSTER = ['docker-compose.yml', 'docker-compose.cluster.yml'];
const SCALED = ['scorer', 'alerter', 'gateway', 'historian'];
const LOADERS: Record<string, (env: Record<string, string>) => CommonConfig> = {
  collector: loadCollectorConfig,
  scorer: loadScorerConfig,
  alerter: loadAlerterConfig,
  gateway: loadGatewayConfig,
  historian: loadHistorianConfig,
};
/** Settings that would give every replica of a scaled service the same identity. */
const FIXED_IDS = ['REPLICA_ID', 'ALERTER_CONSUMER', 'GATEWAY_ID'];

interface Service {
  image?: string;
  build?: unknown;
  container_name?: string;
  command?: string[] | string;
  environment?: Record<string, string | null>;
  ports?: (string | number | { published?: string | number })[];
  volumes?: (string | { source?: string; target?: string })[];
  depends_on?: Record<string, { condition?: string }> | string[];
}

/** `docker-compose` (v1, what CI installs), else the `docker compose` plugin. */
function findCompose(): string[] | undefined {
  for (const cmd of [['docker-compose'], ['docker', 'compose']]) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { stdio: 'ignore' });
    if (r.status === 0) return cmd;
  }
  return undefined;
}

const compose = findCompose();
/** The compose file refuses to start without tokens (never open): any values do for `config`. */
const COMPOSE_TOKENS = {
  INGEST_TOKENS: process.env['INGEST_TOKENS'] ?? 'compose-ingest-token',
  GATEWAY_TOKENS: process.env['GATEWAY_TOKENS'] ?? 'compose-gateway-token',
};
const NOT_INSTALLED =
  'docker-compose is not installed (CI installs it; locally: apt-get install docker-compose)';

function resolved(ctx: TestContext, files: string[]): Record<string, Service> {
  if (!compose) ctx.skip(NOT_INSTALLED);
  const args = [...compose.slice(1), ...files.flatMap((f) => ['-f', f]), 'config'];
  const r = spawnSync(compose[0]!, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...COMPOSE_TOKENS },
  });
  if (r.status !== 0) throw new Error(`${compose.join(' ')} config failed:\n${r.stderr}`);
  return (parse(r.stdout) as { services: Record<string, Service> }).services;
}

const env = (s: Service): Record<string, string> =>
  Object.fromEntries(
    Object.entries(s.environment ?? {}).filter((e): e is [string, string] => e[1] !== null),
  );
const words = (c: Service['command']): string[] =>
  typeof c === 'string' ? c.split(/\s+/) : (c ?? []);
const dependsOn = (s: Service, name: string): string | undefined => {
  const d = s.depends_on;
  if (Array.isArray(d)) return d.includes(name) ? 'service_started' : undefined;
  return d?.[name]?.condition ?? (d && name in d ? 'service_started' : undefined);
};
/** A host port fixed by the file: "8080:8080" or { published: 8080 } (a bare "8080" gets a random one). */
const fixedHostPorts = (s: Service): string[] =>
  (s.ports ?? [])
    .filter((p) =>
      typeof p === 'object' ? p.published !== undefined && p.published !== '' : /:/.test(String(p)),
    )
    .map((p) => JSON.stringify(p));
const quantmonServices = (services: Record<string, Service>): string[] =>
  Object.keys(services).filter((name) => services[name]!.build !== undefined);

/** What must hold with and without the Cluster override. */
function checkScaling(services: Record<string, Service>): Map<string, CommonConfig> {
  expect(quantmonServices(services).sort()).toEqual(Object.keys(LOADERS).sort());
  for (const name of SCALED) {
    const s = services[name]!;
    expect(s.container_name, `${name}: container_name`).toBeUndefined();
    expect(fixedHostPorts(s), `${name}: fixed host ports`).toEqual([]);
    expect(
      FIXED_IDS.filter((v) => v in env(s)),
      `${name}: per-replica ids`,
    ).toEqual([]);
  }
  // Every service's environment is one its config loader accepts, with one PARTITIONS for all.
  const configs = new Map<string, CommonConfig>();
  for (const [name, load] of Object.entries(LOADERS)) {
    expect(env(services[name]!)['PARTITIONS'], `${name}: PARTITIONS`).toMatch(/^\d+$/);
    configs.set(name, load(env(services[name]!)));
  }
  expect(new Set([...configs.values()].map((c) => c.partitions)).size).toBe(1);
  return configs;
}

function checkGatewayBehindLb(services: Record<string, Service>): void {
  const lb = services['lb'];
  expect(lb, 'an lb service').toBeDefined();
  expect(fixedHostPorts(lb!)).not.toEqual([]);
  expect(dependsOn(lb!, 'gateway')).toBe('service_healthy');
  const conf = (lb!.volumes ?? [])
    .map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`))
    .find((v) => v.includes(':/etc/nginx/nginx.conf'));
  expect(conf, 'nginx.conf mounted into lb').toBeDefined();
  const nginx = readFileSync(conf!.split(':')[0]!, 'utf8');
  const port = env(services['gateway']!)['GATEWAY_PORT'];
  expect(nginx).toContain(`http://gateway:${port}`);
}

describe('docker-compose.yml', () => {
  it('scales scorer, alerter and gateway: no container_name, fixed host port or per-replica id; one PARTITIONS', (ctx) => {
    checkScaling(resolved(ctx, BASE));
  });

  it('puts the gateways behind the nginx lb, on the gateway port nginx proxies to', (ctx) => {
    checkGatewayBehindLb(resolved(ctx, BASE));
  });

  it('runs Redis with AOF every second, rewritten at 1 GB at the least and at 200 % growth, noeviction, and big keys freed in the background', (ctx) => {
    const command = words(resolved(ctx, BASE)['redis']!.command).join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--appendfsync everysec');
    expect(command).toContain('--auto-aof-rewrite-min-size 1gb');
    expect(command).toContain('--auto-aof-rewrite-percentage 200');
    expect(command).toContain('--maxmemory-policy noeviction');
    // The same as npm start's Redis (scripts/local-redis.ts).
    expect(command).toContain(LAZYFREE_ARGS.join(' '));
    expect(command).toContain('--repl-backlog-size 256mb');
  });
});

describe('docker-compose.yml: history', () => {
  it('runs PostgreSQL on a volume with a healthcheck, and the historian and gateway on it', (ctx) => {
    const services = resolved(ctx, BASE);
    const pg = services['postgres'];
    expect(pg, 'a postgres service').toBeDefined();
    expect(pg!.image).toMatch(/^postgres:/);
    const data = (pg!.volumes ?? [])
      .map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`))
      .find((v) => /:\/var\/lib\/postgresql\/data(:|$)/.test(v));
    expect(data, 'its data on a volume').toBeDefined();
    expect((pg as { healthcheck?: { test?: unknown } }).healthcheck?.test).toBeDefined();
    const historian = services['historian']!;
    expect(words(historian.command).join(' ')).toContain('services/historian/');
    expect(dependsOn(historian, 'postgres')).toBe('service_healthy');
    const env0 = env(pg!);
    for (const name of ['historian', 'gateway']) {
      const url = new URL(env(services[name]!)['DATABASE_URL']!);
      expect(url.hostname, `${name}: DATABASE_URL host`).toBe('postgres');
      expect(url.pathname.slice(1)).toBe(env0['POSTGRES_DB']);
      expect(decodeURIComponent(url.username)).toBe(env0['POSTGRES_USER']);
      expect(decodeURIComponent(url.password)).toBe(env0['POSTGRES_PASSWORD']);
    }
  });
});

describe('docker-compose.cluster.yml over docker-compose.yml', () => {
  it('keeps the scaling and lb guarantees of the base file', (ctx) => {
    const services = resolved(ctx, CLUSTER);
    checkScaling(services);
    checkGatewayBehindLb(services);
  });

  it('runs six cluster-enabled nodes, each announcing its service name, each on its own volume', (ctx) => {
    const services = resolved(ctx, CLUSTER);
    const nodes = Object.keys(services).filter((n) =>
      words(services[n]!.command).some((w) => w.endsWith('cluster-node.conf')),
    );
    expect(nodes).toHaveLength(6);
    const dataVolumes = new Set<string>();
    for (const name of nodes) {
      const command = words(services[name]!.command);
      expect(command[command.indexOf('--cluster-announce-hostname') + 1]).toBe(name);
      const data = (services[name]!.volumes ?? [])
        .map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`))
        .find((v) => /:\/data(:|$)/.test(v));
      dataVolumes.add(data!.split(':')[0]!);
    }
    expect(dataVolumes.size).toBe(6);
    const conf = readFileSync(resolve(root, 'deploy/redis-cluster-node.conf'), 'utf8');
    for (const line of [
      'cluster-enabled yes',
      'cluster-preferred-endpoint-type hostname',
      'appendonly yes',
      'appendfsync everysec',
      'auto-aof-rewrite-min-size 1gb',
      'auto-aof-rewrite-percentage 200',
      'maxmemory-policy noeviction',
      // The same as npm start's Redis: `--name value` pairs as `name value` lines.
      ...LAZYFREE_ARGS.flatMap((a, i) =>
        i % 2 === 0 ? [`${a.slice(2)} ${LAZYFREE_ARGS[i + 1]}`] : [],
      ),
      'repl-backlog-size 256mb',
    ]) {
      expect(conf).toMatch(new RegExp(`^${line}$`, 'm'));
    }
    const init = services['redis-cluster-init']!;
    for (const node of nodes) expect(dependsOn(init, node)).toBe('service_healthy');
  });

  it('points every quantmon service at the Cluster with a hash-tagged BullMQ prefix, once it is created', (ctx) => {
    const services = resolved(ctx, CLUSTER);
    const configs = checkScaling(services);
    const nodes = Object.keys(services).filter(
      (n) => n.startsWith('redis') && n !== 'redis-cluster-init',
    );
    for (const [name, config] of configs) {
      expect(config.clusterNodes.length, `${name}: REDIS_CLUSTER_NODES`).toBeGreaterThan(0);
      for (const url of config.clusterNodes) expect(nodes).toContain(new URL(url).hostname);
      // BullMQ on a Cluster: every key of a queue in one slot, so `{...}` in the prefix.
      expect(config.bullPrefix, `${name}: BULLMQ_PREFIX`).toMatch(/^[^{]*\{[^{}]+\}/);
      expect(env(services[name]!)['BULLMQ_PREFIX']).toBe(config.bullPrefix);
      expect(dependsOn(services[name]!, 'redis-cluster-init')).toBe(
        'service_completed_successfully',
      );
    }
    expect(new Set([...configs.values()].map((c) => c.bullPrefix)).size).toBe(1);
  });
});
