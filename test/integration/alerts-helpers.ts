import {
  AlertEvent,
  decodeEntry,
  EMERGENCY_QUEUE,
  encodeEntry,
  GROUPS,
  keysFor,
  partitionOf,
  type Keys,
  type MetricName,
  type PartitionKeys,
  type RawEntry,
  type ScoreUpdate,
  type SystemSample,
} from '@quantmon/shared';
import { Worker, type Job } from 'bullmq';
import { EMERGENCY_WORKER_DEFAULTS } from '../../packages/client/src/emergency-worker.js';
import { Redis } from 'ioredis';
import { scoreUpdate } from '../../services/alerter/src/testing-inputs.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startService, type RunningService } from '../helpers/services.js';
import { groupState } from '../helpers/streams.js';

/**
 * Shared set-up of the alerts-*.test.ts files: a Redis, a prefix, a
 * partition count, and writers for each partition's streams.
 */
export interface AlertsFixture {
  server: TestRedis;
  redis: Redis;
  prefix: string;
  bullPrefix: string;
  keys: Keys;
  /** The pipeline's partition count P (PARTITIONS in `env`). */
  partitions: number;
  env: Record<string, string>;
}

export interface AlertsFixtureOptions {
  /** Share another fixture's Redis (a new prefix on it). */
  server?: TestRedis;
  /** P; default 1: most suites test one lane's semantics. */
  partitions?: number;
}

export async function alertsFixture(
  label: string,
  opts: AlertsFixtureOptions = {},
): Promise<AlertsFixture> {
  const s = opts.server ?? (await startTestRedis());
  const partitions = opts.partitions ?? 1;
  const prefix = uniquePrefix(label);
  const bullPrefix = `${prefix}-bull`;
  const redis = new Redis(s.url);
  redis.on('error', () => undefined); // outage tests stop the server on purpose
  return {
    server: s,
    redis,
    prefix,
    bullPrefix,
    keys: keysFor(prefix),
    partitions,
    env: {
      REDIS_URL: s.url,
      QUANTMON_PREFIX: prefix,
      BULLMQ_PREFIX: bullPrefix,
      PARTITIONS: String(partitions),
      ALERTER_TICK_MS: '100',
      ALERTER_NO_DATA_MS: '0',
      ALERTER_MIN_OBSERVATIONS: '1',
    },
  };
}

/** The keys of the partition a strategy or host id hashes to. */
export function partitionKeys(f: AlertsFixture, id: string): PartitionKeys {
  return f.keys.partition(partitionOf(id, f.partitions));
}

/** Every partition's keys, 0 .. P-1. */
export function allPartitionKeys(f: AlertsFixture): PartitionKeys[] {
  return Array.from({ length: f.partitions }, (_, p) => f.keys.partition(p));
}

/** Start one alerter and wait until it owns every partition and its groups exist. */
export async function startAlerter(
  f: AlertsFixture,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const svc = await startService('alerter', { ...f.env, ...env });
  try {
    await eventually(
      async () => ((await ownedPartitions(svc)) === f.partitions ? true : undefined),
      15_000,
      `alerter owning all ${f.partitions} partitions`,
    );
    await waitGroups(f);
  } catch (err) {
    await svc.kill(); // the caller never gets it: leave no process behind
    throw err;
  }
  return svc;
}

/**
 * Wait until the alerter groups exist on every partition: `alerter` on its
 * scores and system-samples streams (created at start-up), and the
 * partition's own group on the global alert-commands stream (created by the
 * partition's owner when its term starts).
 */
export async function waitGroups(f: AlertsFixture): Promise<void> {
  await eventually(
    async () => {
      for (const pk of allPartitionKeys(f)) {
        const wanted: [string, string][] = [
          [pk.scores, GROUPS.alerter],
          [pk.systemSamples, GROUPS.alerter],
          [f.keys.alertCommands, GROUPS.alerterCommands(pk.partition)],
        ];
        for (const [stream, group] of wanted) {
          if (!(await groupState(f.redis, stream, group))) return undefined;
        }
      }
      return true;
    },
    15_000,
    'alerter consumer groups',
  );
}

export async function metric(svc: RunningService, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${svc.port}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (labels && !line.includes(labels)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** How many partitions this alerter replica owns (its quantmon_alerter_leader gauge); 0 when unreachable. */
export async function ownedPartitions(svc: RunningService): Promise<number> {
  try {
    return await metric(svc, 'quantmon_alerter_leader');
  } catch {
    return 0;
  }
}

/** A replica's id, as its /healthz shows it and its partition leases carry it. */
export async function replicaOf(svc: RunningService): Promise<string> {
  const health = (await (await fetch(`http://127.0.0.1:${svc.port}/healthz`)).json()) as {
    replica: string;
  };
  return health.replica;
}

/** The alerter lease of every partition as Redis holds it: the owner's replica id, or undefined when free. */
export async function leaseHolders(f: AlertsFixture): Promise<(string | undefined)[]> {
  return Promise.all(
    allPartitionKeys(f).map(async (pk) => {
      const v = await f.redis.get(pk.lease('alerter'));
      return v === null ? undefined : v.slice(0, v.lastIndexOf('#'));
    }),
  );
}

export async function pushScore(
  f: AlertsFixture,
  strategy: string,
  metrics: Partial<Record<MetricName, number>>,
  extra: Partial<ScoreUpdate> = {},
): Promise<string> {
  const u = scoreUpdate(strategy, metrics, extra);
  return (await f.redis.xadd(partitionKeys(f, strategy).scores, '*', ...encodeEntry(u))) as string;
}

export async function pushSystem(
  f: AlertsFixture,
  host: string,
  fields: Omit<Partial<SystemSample>, 'host'>,
): Promise<string> {
  const s: SystemSample = { host, ts: Date.now(), ...fields };
  return (await f.redis.xadd(
    partitionKeys(f, host).systemSamples,
    '*',
    ...encodeEntry(s),
  )) as string;
}

/** `a - b` for stream ids `<ms>-<seq>`. */
function compareIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  return am === bm ? Number(as - bs) : Number(am - bm);
}

/**
 * Every partition's alert events, merged by entry id (write time): exact
 * order within a partition, and so per rule and subject.
 */
export async function alertEvents(f: AlertsFixture): Promise<AlertEvent[]> {
  const raw: RawEntry[] = [];
  for (const pk of allPartitionKeys(f)) {
    raw.push(...((await f.redis.xrange(pk.alerts, '-', '+')) as RawEntry[]));
  }
  raw.sort(([a], [b]) => compareIds(a, b));
  return raw.flatMap(([, fields]) => {
    const d = decodeEntry(fields, AlertEvent);
    return d.ok ? [d.value] : [];
  });
}

/** Open incident records over every partition. */
export async function incidentCount(f: AlertsFixture): Promise<number> {
  let n = 0;
  for (const pk of allPartitionKeys(f)) n += await f.redis.hlen(pk.incidents);
  return n;
}

export function eventsFor(events: AlertEvent[], rule: string, subject: string): AlertEvent[] {
  return events.filter((e) => e.rule === rule && e.subject === subject);
}

/** Wait for an event matching `match` on any partition's alerts stream. */
export function waitEvent(
  f: AlertsFixture,
  match: (e: AlertEvent) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<AlertEvent> {
  return eventually(async () => (await alertEvents(f)).find(match), timeoutMs, what);
}

/** A real BullMQ Worker on the emergency queue keeping every job it processed. */
export function emergencyWorker(f: AlertsFixture): { worker: Worker; jobs: Job[] } {
  const jobs: Job[] = [];
  const connection = new Redis(f.server.url, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const worker = new Worker(
    EMERGENCY_QUEUE,
    async (job) => {
      jobs.push(job);
    },
    // As createEmergencyWorker's: a job taken just as Redis stops comes back within ~15 s.
    { ...EMERGENCY_WORKER_DEFAULTS, connection, prefix: f.bullPrefix },
  );
  worker.on('error', () => undefined);
  return { worker, jobs };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
