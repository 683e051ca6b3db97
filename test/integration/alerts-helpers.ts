import {
  AlertEvent,
  decodeEntry,
  EMERGENCY_QUEUE,
  encodeEntry,
  keysFor,
  type Keys,
  type MetricName,
  type RawEntry,
  type ScoreUpdate,
  type SystemSample,
} from '@quantmon/shared';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { scoreUpdate } from '../../services/alerter/src/testing-inputs.js';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startService, type RunningService } from '../helpers/services.js';

/** Shared set-up of the alerts-*.test.ts files: a Redis, a prefix, and writers for the streams. */
export interface AlertsFixture {
  server: TestRedis;
  redis: Redis;
  prefix: string;
  bullPrefix: string;
  keys: Keys;
  env: Record<string, string>;
}

export async function alertsFixture(label: string, server?: TestRedis): Promise<AlertsFixture> {
  const s = server ?? (await startTestRedis());
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
    env: {
      REDIS_URL: s.url,
      QUANTMON_PREFIX: prefix,
      BULLMQ_PREFIX: bullPrefix,
      ALERTER_TICK_MS: '100',
      ALERTER_NO_DATA_MS: '0',
      ALERTER_MIN_OBSERVATIONS: '1',
    },
  };
}

/** Start an alerter and wait until it leads and its consumer groups exist. */
export async function startAlerter(
  f: AlertsFixture,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const svc = await startService('alerter', { ...f.env, ...env });
  await eventually(
    async () => ((await isLeader(svc)) ? true : undefined),
    15_000,
    'alerter leading',
  );
  await waitGroups(f);
  return svc;
}

export async function waitGroups(f: AlertsFixture): Promise<void> {
  await eventually(
    async () => {
      for (const s of [f.keys.scores, f.keys.systemSamples, f.keys.alertCommands]) {
        try {
          const groups = (await f.redis.xinfo('GROUPS', s)) as unknown[][];
          if (!groups.some((g) => g.includes('alerter'))) return undefined;
        } catch {
          return undefined;
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

export async function isLeader(svc: RunningService): Promise<boolean> {
  try {
    return (await metric(svc, 'quantmon_alerter_leader')) === 1;
  } catch {
    return false;
  }
}

export async function pushScore(
  f: AlertsFixture,
  strategy: string,
  metrics: Partial<Record<MetricName, number>>,
  extra: Partial<ScoreUpdate> = {},
): Promise<string> {
  const u = scoreUpdate(strategy, metrics, extra);
  return (await f.redis.xadd(f.keys.scores, '*', ...encodeEntry(u))) as string;
}

export async function pushSystem(
  f: AlertsFixture,
  host: string,
  fields: Omit<Partial<SystemSample>, 'host'>,
): Promise<string> {
  const s: SystemSample = { host, ts: Date.now(), ...fields };
  return (await f.redis.xadd(f.keys.systemSamples, '*', ...encodeEntry(s))) as string;
}

export async function alertEvents(f: AlertsFixture): Promise<AlertEvent[]> {
  const raw = (await f.redis.xrange(f.keys.alerts, '-', '+')) as RawEntry[];
  return raw.flatMap(([, fields]) => {
    const d = decodeEntry(fields, AlertEvent);
    return d.ok ? [d.value] : [];
  });
}

export function eventsFor(events: AlertEvent[], rule: string, subject: string): AlertEvent[] {
  return events.filter((e) => e.rule === rule && e.subject === subject);
}

/** Wait for an event matching `match` on the alerts stream. */
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
    { connection, prefix: f.bullPrefix },
  );
  worker.on('error', () => undefined);
  return { worker, jobs };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
