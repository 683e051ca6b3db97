/**
 * A real Redis Cluster for tests: redis-server processes in cluster mode on
 * free loopback ports, each in its own folder, joined by
 * `redis-cli --cluster create`. No Docker. Every process dies with the test
 * worker, even when it crashes (see startWatchdog).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRedis, type RedisRole } from '@quantmon/shared';
import { Redis, type Cluster } from 'ioredis';
import { LAZYFREE_ARGS, portFree, waitForRedis } from '../../scripts/local-redis.js';
import { eventually } from './services.js';

const HOST = '127.0.0.1';
/** PFAIL after this long without a pong; a failover follows within ~1-2 node timeouts. */
const NODE_TIMEOUT_MS = 2000;
/** Cluster bus port = port + 10000 (Redis's default). */
const BUS_OFFSET = 10_000;
/**
 * Ports 12000-21999 (bus 22000-31999): both below Linux's ephemeral range
 * (32768+), so no outgoing connection, and no freePort() of another test,
 * can be holding either of them.
 */
const PORT_MIN = 12_000;
const PORT_SPAN = 10_000;
const SLOTS = 16_384;

export type ClusterRole = 'master' | 'replica';

export interface ClusterNodeInfo {
  host: string;
  port: number;
  /** null while the process is not running (killed, not restarted yet). */
  pid: number | null;
  /** As the cluster last reported it (a killed master stays 'master', flagged failed, with no slots). */
  role: ClusterRole;
}

export interface FailoverResult {
  /** The master that was killed. */
  port: number;
  /** Its replica, now master of its slots. */
  promoted: number;
  /** From SIGKILL until every live node agreed on the new topology with cluster_state:ok. */
  failoverMs: number;
}

export interface RedisCluster {
  /** A snapshot of every node, dead or alive. */
  readonly nodes: ClusterNodeInfo[];
  /** `redis://127.0.0.1:P1,redis://127.0.0.1:P2,...`: the REDIS_CLUSTER_NODES format. */
  seeds: string;
  /** From the first spawn until the cluster was settled. */
  startupMs: number;
  /** A Cluster client built by the services' own createRedis (closed by stop()). */
  client(role?: RedisRole, name?: string): Cluster;
  /**
   * SIGKILL the master serving a slot (a number) or a key's slot (a string);
   * default slot 0. Resolves once its replica is promoted and every live node
   * agrees on the topology with cluster_state:ok.
   */
  killMaster(slotOrKey?: number | string): Promise<FailoverResult>;
  /**
   * Start a stopped node again on its port and folder (same node id, from
   * nodes.conf); resolves once it has rejoined and, as a replica, synced. A
   * killed master comes back as a replica of its successor. Without
   * persistence a master restarted before its failover would return empty and
   * keep its slots: data loss, as in production.
   */
  restartNode(port: number): Promise<void>;
  /** Kill every node and remove every folder. Safe to call twice. */
  stop(): Promise<void>;
}

interface Node {
  port: number;
  dir: string;
  proc: ChildProcess | undefined;
  /** One admin connection per node: no offline queue, so a dead node fails at once. */
  admin: Redis | undefined;
}

/** One line of CLUSTER NODES. */
interface NodeLine {
  id: string;
  port: number;
  master: boolean;
  masterId: string | null;
  failed: boolean;
  slots: string[];
}

function parseClusterNodes(text: string): NodeLine[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', addr = '', flags = '', masterId = '-', ...rest] = line.trim().split(' ');
      const f = flags.split(',');
      return {
        id,
        port: Number(addr.split('@')[0]?.split(':').at(-1)),
        master: f.includes('master'),
        masterId: masterId === '-' ? null : masterId,
        failed: f.includes('fail') || f.includes('fail?'),
        // after ping-sent, pong-recv, config-epoch, link-state; skip [slot->-id] migrations
        slots: rest.slice(4).filter((s) => !s.startsWith('[')),
      };
    });
}

/** The part of a node's view every node must agree on (not pings, not `myself`). */
function signature(lines: NodeLine[]): string {
  const portOf = new Map(lines.map((l) => [l.id, l.port]));
  return lines
    .map((l) => {
      const master = l.masterId === null ? '-' : String(portOf.get(l.masterId));
      const role = l.master ? 'master' : 'replica';
      return `${l.port} ${role} of ${master} ${l.failed ? 'FAILED' : 'up'} ${l.slots.join(',')}`;
    })
    .sort()
    .join('\n');
}

function ownerOf(lines: NodeLine[], slot: number): NodeLine | undefined {
  return lines.find(
    (l) =>
      l.master &&
      !l.failed &&
      l.slots.some((range) => {
        const [lo = NaN, hi = lo] = range.split('-').map(Number);
        return slot >= lo && slot <= hi;
      }),
  );
}

const running = (n: Node): n is Node & { proc: ChildProcess } =>
  n.proc !== undefined && n.proc.exitCode === null && n.proc.signalCode === null;

async function pickPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = PORT_MIN + Math.floor(Math.random() * PORT_SPAN);
    if ([port, port + BUS_OFFSET].some((p) => taken.has(p))) continue;
    if ((await portFree(port)) && (await portFree(port + BUS_OFFSET))) return port;
  }
  throw new Error('no free port pair (P, P+10000) in 12000-21999');
}

function nodeArgs(n: Node): string[] {
  const config: Record<string, string> = {
    port: String(n.port),
    bind: HOST,
    dir: n.dir,
    pidfile: join(n.dir, 'redis.pid'),
    logfile: join(n.dir, 'redis.log'),
    save: '',
    appendonly: 'no',
    'maxmemory-policy': 'noeviction',
    'repl-backlog-size': '256mb',
    // Replicas sync at once (7.0 waits 5 s for more replicas to share a diskless sync).
    'repl-diskless-sync-delay': '0',
    'cluster-enabled': 'yes',
    'cluster-config-file': 'nodes.conf',
    'cluster-node-timeout': String(NODE_TIMEOUT_MS),
    // A replica may always fail over, however long its link has been down.
    'cluster-replica-validity-factor': '0',
    'cluster-allow-reads-when-down': 'no',
  };
  // As the deployed nodes (deploy/redis-cluster-node.conf): big keys freed in the background.
  return [...Object.entries(config).flatMap(([k, v]) => [`--${k}`, v]), ...LAZYFREE_ARGS];
}

function logTail(n: Node): string {
  try {
    return readFileSync(join(n.dir, 'redis.log'), 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Start the node's process; rejects (with its log) if it exits before answering PING. */
async function startNode(n: Node): Promise<void> {
  const proc = spawn('redis-server', nodeArgs(n), { stdio: 'ignore' });
  n.proc = proc;
  const died = new Promise<never>((_, reject) => {
    proc.once('error', (err) => reject(new Error(`cannot run redis-server: ${err.message}`)));
    proc.once('exit', (code, sig) =>
      reject(new Error(`redis-server :${n.port} exited (${code ?? sig}):\n${logTail(n)}`)),
    );
  });
  died.catch(() => undefined); // the exit of a node we kill later is not an error
  await Promise.race([waitForRedis(`redis://${HOST}:${n.port}`, 10_000), died]);
}

async function killNode(n: Node): Promise<void> {
  if (!running(n)) return;
  const proc = n.proc;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
  // SIGKILL leaves the pidfile behind: the watchdog must not kill a reused pid.
  rmSync(join(n.dir, 'redis.pid'), { force: true });
}

/**
 * A detached `sh` holding the read end of a pipe from this process. When the
 * test worker exits, however it exits (a failed test, process.exit, SIGKILL),
 * the pipe closes, `cat` returns, and the watchdog kills every node listed in
 * a pidfile and removes the folders. stop() does the same and then closes the
 * pipe, so the watchdog then finds nothing to do.
 */
const WATCHDOG = `trap '' INT TERM HUP
cat >/dev/null
for f in "$1"/*/redis.pid; do
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid"
done
rm -rf "$1"`;

function startWatchdog(root: string): ChildProcess {
  const dog = spawn('sh', ['-c', WATCHDOG, 'quantmon-cluster-watchdog', root], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  dog.on('error', () => undefined);
  dog.unref();
  (dog.stdin as Socket | null)?.unref();
  return dog;
}

export async function startRedisCluster(
  opts: { masters?: number; replicasPerMaster?: number } = {},
): Promise<RedisCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 1;
  if (masters < 3) throw new Error('a Redis Cluster needs at least 3 masters');
  const t0 = Date.now();
  const root = mkdtempSync(join(tmpdir(), 'quantmon-cluster-'));
  const watchdog = startWatchdog(root);
  const nodes: Node[] = [];
  const clients: Cluster[] = [];
  let view: NodeLine[] = [];

  /** Every live node's view, or why the cluster is not settled yet. */
  const observe = async (): Promise<NodeLine[] | string> => {
    let first: { port: number; sig: string; lines: NodeLine[] } | undefined;
    for (const n of nodes.filter(running)) {
      if (!n.admin) return `${n.port}: no admin connection`;
      const [info, text, repl] = await Promise.all([
        n.admin.call('CLUSTER', 'INFO').then(String),
        n.admin.call('CLUSTER', 'NODES').then(String),
        n.admin.info('replication'),
      ]);
      if (!info.includes('cluster_state:ok')) return `${n.port}: cluster_state not ok`;
      if (!info.includes(`cluster_slots_assigned:${SLOTS}`)) return `${n.port}: slots unassigned`;
      if (!info.includes(`cluster_known_nodes:${nodes.length}`)) return `${n.port}: nodes unknown`;
      if (repl.includes('role:slave') && !repl.includes('master_link_status:up'))
        return `${n.port}: replica not synced`;
      const lines = parseClusterNodes(text);
      const sig = signature(lines);
      if (!first) first = { port: n.port, sig, lines };
      else if (sig !== first.sig)
        return `views differ:\n${first.port} sees\n${first.sig}\n${n.port} sees\n${sig}`;
    }
    if (!first) return 'no node running';
    for (const n of nodes) {
      const line = first.lines.find((l) => l.port === n.port);
      if (!line) return `${n.port} missing from CLUSTER NODES`;
      if (line.failed === running(n))
        return `${n.port} ${line.failed ? 'still failed' : 'not failed yet'}`;
    }
    return first.lines;
  };

  /** Wait until every live node agrees, cluster_state:ok, and `check` finds nothing wrong. */
  const settle = async (
    what: string,
    check: (lines: NodeLine[]) => string | undefined = () => undefined,
    timeoutMs = 30_000,
  ): Promise<NodeLine[]> => {
    let reason = '';
    try {
      view = await eventually(
        async () => {
          const got = await observe().catch((err: Error) => err.message);
          reason = typeof got === 'string' ? got : (check(got) ?? '');
          return reason === '' ? (got as NodeLine[]) : undefined;
        },
        timeoutMs,
        what,
      );
      return view;
    } catch (err) {
      throw new Error(`${(err as Error).message}; last: ${reason}`, { cause: err });
    }
  };

  const byPort = (port: number): Node => {
    const n = nodes.find((x) => x.port === port);
    if (!n) throw new Error(`no cluster node on port ${port}`);
    return n;
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const c of clients) {
        try {
          c.disconnect();
        } catch {
          // already closed
        }
      }
      for (const n of nodes) n.admin?.disconnect();
      await Promise.all(nodes.map((n) => killNode(n).catch(() => undefined)));
      try {
        rmSync(root, { recursive: true, force: true });
      } catch {
        // the watchdog retries it
      }
      watchdog.stdin?.end();
    })());

  try {
    const taken = new Set<number>();
    const spawnOne = async (): Promise<Node> => {
      let lastErr: unknown;
      for (let attempt = 0; attempt < 5; attempt++) {
        const port = await pickPort(taken);
        taken.add(port).add(port + BUS_OFFSET);
        const n: Node = { port, dir: join(root, String(port)), proc: undefined, admin: undefined };
        mkdirSync(n.dir);
        try {
          await startNode(n);
          return n;
        } catch (err) {
          lastErr = err; // most likely another process took the port in between: next one
          await killNode(n);
        }
      }
      throw lastErr;
    };
    const total = masters * (1 + replicas);
    nodes.push(...(await Promise.all(Array.from({ length: total }, spawnOne))));
    for (const n of nodes) {
      n.admin = new Redis(n.port, HOST, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => 100,
      });
      n.admin.on('error', () => undefined);
    }
    const addrs = nodes.map((n) => `${HOST}:${n.port}`);
    const create = ['--cluster', 'create', ...addrs, '--cluster-replicas', String(replicas)];
    await promisify(execFile)('redis-cli', [...create, '--cluster-yes'], { timeout: 30_000 });
    await settle('the new cluster to settle');
  } catch (err) {
    await stop();
    throw err;
  }

  const slotOf = async (target: number | string | undefined): Promise<number> => {
    if (typeof target === 'number') {
      if (!Number.isInteger(target) || target < 0 || target >= SLOTS)
        throw new Error(`slot ${target} outside 0-${SLOTS - 1}`);
      return target;
    }
    if (target === undefined) return 0;
    const admin = nodes.find(running)?.admin;
    if (!admin) throw new Error('no node running');
    return Number(await admin.call('CLUSTER', 'KEYSLOT', target));
  };

  return {
    get nodes(): ClusterNodeInfo[] {
      return nodes.map((n) => ({
        host: HOST,
        port: n.port,
        pid: running(n) ? (n.proc.pid ?? null) : null,
        role: view.find((l) => l.port === n.port)?.master ? 'master' : 'replica',
      }));
    },
    seeds: nodes.map((n) => `redis://${HOST}:${n.port}`).join(','),
    startupMs: Date.now() - t0,
    client: (role = 'blocking', name = 'cluster-test') => {
      const seeds = nodes.map((n) => `redis://${HOST}:${n.port}`);
      const c = createRedis({ redisUrl: seeds[0]!, clusterNodes: seeds }, role, name);
      clients.push(c as unknown as Cluster);
      return c as unknown as Cluster;
    },
    killMaster: async (slotOrKey) => {
      const slot = await slotOf(slotOrKey);
      const before = await settle('the cluster to settle before a kill');
      const victim = ownerOf(before, slot);
      if (!victim) throw new Error(`no live master serves slot ${slot}`);
      const heirs = before.filter((l) => l.masterId === victim.id && !l.failed);
      if (heirs.length === 0) throw new Error(`master ${victim.port} has no live replica`);
      const t = Date.now();
      await killNode(byPort(victim.port));
      const after = await settle(`a replica of ${victim.port} to take slot ${slot}`, (lines) => {
        const owner = ownerOf(lines, slot);
        return owner && heirs.some((h) => h.id === owner.id) ? undefined : 'slot not moved yet';
      });
      return {
        port: victim.port,
        promoted: ownerOf(after, slot)!.port,
        failoverMs: Date.now() - t,
      };
    },
    restartNode: async (port) => {
      const n = byPort(port);
      if (running(n)) throw new Error(`node ${port} is running`);
      await startNode(n);
      await settle(`node ${port} to rejoin`);
    },
    stop,
  };
}
