import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import WebSocket from 'ws';
import { parse } from 'yaml';
import { startEmbeddedPostgres, type LocalPostgres } from '../../scripts/embedded-postgres.js';
import { buildOnce } from '../helpers/build-once.js';
import { NGINX_BIN } from '../helpers/nginx.js';
import { freePort } from '../helpers/redis-server.js';
import { eventually, ROOT } from '../helpers/services.js';
import { startTestDns, type TestDns } from './compose-local-dns.js';

/**
 * docker-compose.yml run without a Docker engine: what `docker-compose config`
 * resolves is started as local processes, each service with exactly its
 * declared command (behind the Dockerfile's ENTRYPOINT) and environment
 * (nothing inherited from the test), Redis from the system with the
 * declared arguments, and the `lb` nginx from the system with
 * deploy/nginx.conf. `--scale gateway=3` is three gateways on 127.0.0.2-4
 * behind a stand-in for Docker's DNS. Each declared healthcheck is run as
 * declared. A wrong variable name, port, command or healthcheck in the
 * compose file fails here. The `postgres` image is stood in for by an
 * embedded PostgreSQL given the declared user, password and database, and
 * its declared healthcheck (pg_isready) runs against it, so the historian
 * runs too, and the gateway reads what it wrote.
 *
 * What is translated, and only this: host names (`redis` and `postgres` ->
 * 127.0.0.1 and their ports), a replica's own address (a container's 127.0.0.1 and
 * LISTEN_HOST 0.0.0.0 -> the replica's loopback address), published ports
 * (-> free ports, as other work may hold 8080/8081 here), and in nginx.conf
 * the resolver address, the listen port and the paths of a root-less run.
 */

const TOKENS = { INGEST_TOKENS: 'local-ingest-token', GATEWAY_TOKENS: 'ops:local-gateway-token' };
const GATEWAY_TOKEN = 'local-gateway-token';
const GATEWAY_REPLICAS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

interface Service {
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | null>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string }>;
  ports?: { published?: number | string; target?: number | string }[];
  volumes?: (string | { source?: string; target?: string })[];
}

function composeCli(): string[] | undefined {
  for (const cmd of [['docker-compose'], ['docker', 'compose']]) {
    if (spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { stdio: 'ignore' }).status === 0)
      return cmd;
  }
  return undefined;
}
const compose = composeCli();

function resolved(): Record<string, Service> {
  const cli = compose!;
  const r = spawnSync(cli[0]!, [...cli.slice(1), '-f', 'docker-compose.yml', 'config'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...TOKENS },
  });
  if (r.status !== 0) throw new Error(`compose config failed:\n${r.stderr}`);
  return (parse(r.stdout) as { services: Record<string, Service> }).services;
}

/** The Dockerfile's final ENTRYPOINT (exec form). */
function entrypoint(): string[] {
  const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('ENTRYPOINT '));
  const last = lines.at(-1);
  if (!last) throw new Error('Dockerfile has no ENTRYPOINT');
  return JSON.parse(last.slice('ENTRYPOINT '.length)) as string[];
}

/** A port free on every one of `hosts`. */
async function portFreeOn(hosts: string[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    const ok = await Promise.all(
      hosts.map(
        (h) =>
          new Promise<boolean>((res) => {
            const s = createServer();
            s.once('error', () => res(false));
            s.listen(port, h, () => s.close(() => res(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return port;
  }
  throw new Error(`no port free on ${hosts.join(', ')}`);
}

interface Running {
  name: string;
  addr: string;
  port: number;
  env: Record<string, string>;
  proc: ChildProcess;
  out: () => string;
}

const nginxMissing = existsSync(NGINX_BIN) ? undefined : `no nginx at ${NGINX_BIN}`;
const why = !compose
  ? 'docker-compose is not installed (apt-get install docker-compose)'
  : nginxMissing
    ? `${nginxMissing} (apt-get install nginx-light)`
    : undefined;

describe.skipIf(why !== undefined)(
  `docker-compose.yml as local processes${why ? ` (skipped: ${why})` : ''}`,
  () => {
    const procs: ChildProcess[] = [];
    const dirs: string[] = [];
    let dns: TestDns | undefined;
    let postgres: LocalPostgres | undefined;
    let services: Record<string, Service>;
    const running: Running[] = [];
    let lbPort = 0;
    const skipped: string[] = [];

    function track(proc: ChildProcess): () => string {
      procs.push(proc);
      let out = '';
      proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      return () => out;
    }

    /** Run a declared healthcheck (CMD form) until it passes, as compose's retries do. */
    async function healthy(
      what: string,
      test: string[] | undefined,
      env: Record<string, string>,
      rewrite: (s: string) => string,
    ): Promise<void> {
      expect(test?.[0], `${what}: healthcheck in CMD form`).toBe('CMD');
      const [cmd, ...args] = test!.slice(1).map(rewrite);
      const bin = cmd === 'node' ? process.execPath : cmd!;
      let last = '';
      await eventually(
        () => {
          const r = spawnSync(bin, args, { env, encoding: 'utf8', timeout: 5000 });
          last = `${r.status} ${r.stdout}${r.stderr}`;
          return r.status === 0 ? true : undefined;
        },
        60_000,
        `${what} healthcheck to pass`,
      ).catch((err: Error) => {
        // What the check said the last time, read when it gave up.
        throw new Error(`${err.message} (last: ${last.trim()})`);
      });
    }

    beforeAll(async () => {
      services = resolved();
      await buildOnce('all');
      const dir = mkdtempSync(join(tmpdir(), 'quantmon-compose-'));
      dirs.push(dir);

      // Redis from the system, with the declared arguments.
      const redis = services['redis']!;
      const redisPort = await freePort();
      const redisDir = join(dir, 'redis');
      mkdirSync(redisDir);
      const [redisBin, ...redisArgs] = redis.command!;
      const redisProc = spawn(
        redisBin!,
        [...redisArgs, '--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      track(redisProc);
      // redis-cli reads its options before the command: `-p` goes right
      // after the binary (after the command it would be the command's
      // arguments, and the check would ask whatever Redis answers on 6379).
      const [form, cli, ...check] = redis.healthcheck!.test!;
      await healthy(
        'redis',
        [form!, cli!, '-p', String(redisPort), ...check],
        { PATH: process.env['PATH'] ?? '' },
        (s) => s,
      );
      const redisUrl = `redis://127.0.0.1:${redisPort}`;

      // PostgreSQL: the declared user, password and database on an embedded
      // server (not under mkdtemp: as root it runs as the postgres user).
      const pgSvc = services['postgres'];
      let pgPort = 0;
      if (pgSvc) {
        const e = pgSvc.environment ?? {};
        const [user, password, db] = ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB'].map(
          (k) => e[k],
        );
        expect([user, password, db], 'postgres: user, password and database declared').toEqual([
          expect.stringMatching(/^\w+$/),
          expect.any(String),
          expect.stringMatching(/^\w+$/),
        ]);
        pgPort = await freePort();
        const pgDir = join(tmpdir(), `quantmon-compose-pg-${process.pid}-${pgPort}`);
        dirs.push(pgDir);
        postgres = await startEmbeddedPostgres({ dataDir: pgDir, port: pgPort });
        const admin = new pg.Client({ connectionString: postgres.url });
        await admin.connect();
        await admin.query(
          `create role ${user} login password '${password!.replaceAll("'", "''")}'`,
        );
        await admin.query(`create database ${db} owner ${user}`);
        await admin.end();
        const test = pgSvc.healthcheck?.test ?? [];
        expect(test[0], 'postgres: healthcheck in CMD-SHELL form').toBe('CMD-SHELL');
        let last = '';
        await eventually(
          () => {
            const r = spawnSync('sh', ['-c', test[1]!], {
              env: { PATH: process.env['PATH'] ?? '', PGHOST: '127.0.0.1', PGPORT: String(pgPort) },
              encoding: 'utf8',
              timeout: 5000,
            });
            last = `${r.status} ${r.stdout}${r.stderr}`;
            return r.status === 0 ? true : undefined;
          },
          60_000,
          `postgres healthcheck to pass (last: ${last})`,
        );
      }

      // Every quantmon service (built from this repository) whose dependencies are here.
      const image = entrypoint();
      const base = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' };
      for (const [name, svc] of Object.entries(services)) {
        if (svc.build === undefined) continue;
        const deps = Object.keys(svc.depends_on ?? {}).filter(
          (d) => d !== 'redis' && !(d === 'postgres' && postgres),
        );
        if (deps.length > 0) {
          skipped.push(`${name} (needs ${deps.join(', ')})`);
          continue;
        }
        const declared = Object.fromEntries(
          Object.entries(svc.environment ?? {}).filter((e): e is [string, string] => e[1] !== null),
        );
        const portVar = Object.keys(declared).find((k) => /^[A-Z]+_PORT$/.test(k));
        expect(portVar, `${name}: a *_PORT variable`).toBeDefined();
        const replicas = name === 'gateway' ? GATEWAY_REPLICAS : ['127.0.0.1'];
        const port = name === 'gateway' ? await portFreeOn(replicas) : await freePort();
        for (const addr of replicas) {
          const env: Record<string, string> = { ...base };
          for (const [k, v] of Object.entries(declared))
            env[k] = v
              .replace('redis://redis:6379', redisUrl)
              .replace('@postgres:5432/', `@127.0.0.1:${pgPort}/`);
          expect(env['LISTEN_HOST'], `${name}: LISTEN_HOST`).toBe('0.0.0.0');
          env['LISTEN_HOST'] = addr;
          env[portVar!] = String(port);
          const proc = spawn(process.execPath, [...image.slice(1), ...svc.command!], {
            cwd: ROOT,
            env,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          running.push({ name, addr, port, env, proc, out: track(proc) });
        }
      }
      for (const r of running) {
        await healthy(`${r.name}@${r.addr}`, services[r.name]!.healthcheck?.test, r.env, (s) =>
          s.replaceAll('127.0.0.1', r.addr),
        ).catch((err: unknown) => {
          throw new Error(`${(err as Error).message}\n${r.name} said:\n${r.out()}`);
        });
      }

      // The lb: the system's nginx with deploy/nginx.conf.
      const lb = services['lb']!;
      const mount = (lb.volumes ?? [])
        .map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`))
        .find((v) => v.includes(':/etc/nginx/nginx.conf'));
      expect(mount, 'lb mounts an nginx.conf').toBeDefined();
      const confFile = resolve(ROOT, mount!.split(':')[0]!);
      let conf = readFileSync(confFile, 'utf8');
      const upstream = /set \$gateway http:\/\/gateway:(\d+);/.exec(conf);
      expect(upstream?.[1], 'nginx proxies to gateway:<GATEWAY_PORT>').toBe(
        services['gateway']!.environment!['GATEWAY_PORT'],
      );
      const listen = /listen (\d+);/.exec(conf);
      expect(listen?.[1], "nginx listens on the lb's published target port").toBe(
        String(lb.ports?.[0]?.target),
      );
      dns = await startTestDns(new Map([['gateway', GATEWAY_REPLICAS]]));
      lbPort = await freePort();
      const nginxDir = join(dir, 'nginx');
      mkdirSync(join(nginxDir, 'logs'), { recursive: true });
      conf = conf
        .replace(/resolver 127\.0\.0\.11 /, `resolver 127.0.0.1:${dns.port} `)
        .replace(/listen \d+;/, `listen 127.0.0.1:${lbPort};`)
        .replace(
          /http:\/\/gateway:\d+;/,
          `http://gateway:${running.find((r) => r.name === 'gateway')!.port};`,
        )
        .replace(
          /http \{/,
          `http {\n  access_log off;\n  client_body_temp_path ${nginxDir}/client_body;\n  proxy_temp_path ${nginxDir}/proxy;\n  fastcgi_temp_path ${nginxDir}/fastcgi;\n  uwsgi_temp_path ${nginxDir}/uwsgi;\n  scgi_temp_path ${nginxDir}/scgi;`,
        );
      const head = `pid ${nginxDir}/nginx.pid;\n${process.getuid?.() === 0 ? 'user root;\n' : ''}`;
      writeFileSync(join(nginxDir, 'nginx.conf'), head + conf);
      const nginx = spawn(
        NGINX_BIN,
        [
          '-p',
          nginxDir,
          '-c',
          join(nginxDir, 'nginx.conf'),
          '-e',
          join(nginxDir, 'error.log'),
          '-g',
          'daemon off;',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const nginxOut = track(nginx);
      await eventually(
        async () => {
          if (nginx.exitCode !== null) throw new Error(`nginx exited:\n${nginxOut()}`);
          try {
            return (await fetch(`http://127.0.0.1:${lbPort}/healthz`)).ok ? true : undefined;
          } catch {
            return undefined;
          }
        },
        30_000,
        'the lb answering /healthz',
      );
    }, 300_000);

    afterAll(async () => {
      await Promise.all(
        procs.map(async (p) => {
          if (p.exitCode !== null || p.signalCode !== null) return;
          const exited = new Promise((r) => p.once('exit', r));
          p.kill('SIGTERM');
          await exited;
        }),
      );
      await dns?.close();
      await postgres?.stop().catch(() => undefined);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }, 60_000);

    it('runs every declared quantmon service healthy, the gateway three times', () => {
      const names = running.map((r) => r.name);
      expect(new Set(names)).toEqual(
        new Set(['collector', 'scorer', 'alerter', 'gateway', 'historian']),
      );
      expect(names.filter((n) => n === 'gateway')).toHaveLength(3);
      if (skipped.length > 0)
        process.stdout.write(`compose-local: not run here: ${skipped.join('; ')}\n`);
    });

    it('is not open: ingest and the API refuse requests without the tokens', async () => {
      const collector = running.find((r) => r.name === 'collector')!;
      const refused = await fetch(`http://127.0.0.1:${collector.port}/v1/samples`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ strategy: 'compose-a', ts: Date.now(), return: 0.01 }),
      });
      expect(refused.status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${lbPort}/api/summary`)).status).toBe(401);
    });

    it('carries a sample from ingest to the API and WebSockets through nginx to several gateways', async () => {
      const collector = running.find((r) => r.name === 'collector')!;
      const res = await fetch(`http://127.0.0.1:${collector.port}/v1/samples`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${TOKENS.INGEST_TOKENS}`,
        },
        body: JSON.stringify({ strategy: 'compose-a', ts: Date.now(), return: 0.01 }),
      });
      expect(res.status).toBe(202);
      await eventually(
        async () => {
          const r = await fetch(`http://127.0.0.1:${lbPort}/api/summary`, {
            headers: { authorization: `Bearer ${GATEWAY_TOKEN}` },
          });
          if (!r.ok) return undefined;
          const s = (await r.json()) as { strategies: { strategy: string }[] };
          return s.strategies.some((x) => x.strategy === 'compose-a') ? true : undefined;
        },
        // Generous: on a loaded CI machine the scorer may still be taking its leases.
        90_000,
        'compose-a in /api/summary through the lb',
      );
      // Docker's DNS gives nginx every replica: WebSocket hellos come from several gateways.
      const servers = new Set<string>();
      for (let i = 0; i < 9; i++) {
        const ws = new WebSocket(`ws://127.0.0.1:${lbPort}/ws?token=${GATEWAY_TOKEN}`);
        const hello = await new Promise<{ type: string; server: string }>((res, rej) => {
          ws.once('message', (d: Buffer) =>
            res(JSON.parse(d.toString()) as { type: string; server: string }),
          );
          ws.once('error', rej);
        });
        ws.close();
        expect(hello.type).toBe('hello');
        servers.add(hello.server);
      }
      expect(servers.size).toBeGreaterThan(1);
      expect(dns!.queries.get('gateway')).toBeGreaterThan(0);
    }, 150_000);

    it('writes history to the declared PostgreSQL, and the gateways read it back through the lb', async () => {
      const collector = running.find((r) => r.name === 'collector')!;
      const ts = Date.now();
      const res = await fetch(`http://127.0.0.1:${collector.port}/v1/samples`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${TOKENS.INGEST_TOKENS}`,
        },
        body: JSON.stringify({ strategy: 'compose-h', ts, return: 0.02 }),
      });
      expect(res.status).toBe(202);
      const url = `http://127.0.0.1:${lbPort}/api/export?kind=returns&id=compose-h&from=${ts - 1}&to=${ts + 1}&format=jsonl`;
      const line = await eventually(
        async () => {
          const r = await fetch(url, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
          if (!r.ok) return undefined;
          const text = (await r.text()).trim();
          return text === '' ? undefined : text;
        },
        60_000,
        'compose-h exported from PostgreSQL through the lb',
      );
      expect(JSON.parse(line)).toMatchObject({ strategy: 'compose-h', ts, return: 0.02 });
    });
  },
);
