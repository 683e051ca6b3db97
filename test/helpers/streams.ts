import { decodeEntry, encodeEntry, type Entry, type Keys, type RawEntry } from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { eventually } from './services.js';

/**
 * Stream inspection for integration tests: read a whole stream back through
 * its schema, and wait until a consumer group has applied everything.
 */

/** Every entry of a stream, decoded; throws on an entry that fails the schema. */
export async function readEntries<T>(
  redis: Redis,
  stream: string,
  schema: z.ZodType<T>,
): Promise<Entry<T>[]> {
  const out: Entry<T>[] = [];
  let from = '-';
  for (;;) {
    const page = (await redis.xrange(stream, from, '+', 'COUNT', 10_000)) as RawEntry[];
    for (const [id, fields] of page) {
      const d = decodeEntry(fields, schema);
      if (!d.ok) throw new Error(`entry ${id} of ${stream} is invalid: ${d.reason}`);
      out.push({ id, value: d.value });
    }
    const last = page.at(-1);
    if (!last || page.length < 10_000) return out;
    from = `(${last[0]}`;
  }
}

/** Append messages in one MULTI, encoded as the services encode them; returns the entry ids. */
export async function writeEntries(
  redis: Redis,
  stream: string,
  messages: unknown[],
): Promise<string[]> {
  const tx = redis.multi();
  for (const m of messages) tx.xadd(stream, '*', ...encodeEntry(m));
  const res = (await tx.exec()) ?? [];
  return res.map(([err, id]) => {
    if (err) throw err;
    return id as string;
  });
}

/** Dead-letter entries as flat objects: stream, id, reason, fields. */
export async function readDeadLetters(
  redis: Redis,
  stream: string,
): Promise<Record<string, string>[]> {
  const raw = (await redis.xrange(stream, '-', '+')) as RawEntry[];
  return raw.map(([, fields]) => {
    const o: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) o[fields[i]!] = fields[i + 1]!;
    return o;
  });
}

export interface GroupState {
  pending: number;
  lastDeliveredId: string;
  consumers: number;
}

/** XINFO GROUPS for one group, or undefined when the stream or the group does not exist. */
export async function groupState(
  redis: Redis,
  stream: string,
  group: string,
): Promise<GroupState | undefined> {
  let groups: unknown[][];
  try {
    groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  } catch {
    return undefined; // no such key
  }
  for (const g of groups) {
    const o: Record<string, unknown> = {};
    for (let i = 0; i + 1 < g.length; i += 2) o[String(g[i])] = g[i + 1];
    if (o['name'] === group) {
      return {
        pending: Number(o['pending']),
        lastDeliveredId: String(o['last-delivered-id']),
        consumers: Number(o['consumers']),
      };
    }
  }
  return undefined;
}

/** Wait until a condition holds (polling), or fail naming it. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  await eventually(async () => ((await check()) ? true : undefined), timeoutMs, what);
}

/** Wait until the group exists (a service created it at start-up). */
export async function waitForGroup(
  redis: Redis,
  stream: string,
  group: string,
  timeoutMs = 20_000,
): Promise<void> {
  await until(
    async () => (await groupState(redis, stream, group)) !== undefined,
    `group ${group} on ${stream}`,
    timeoutMs,
  );
}

/**
 * Wait until the group has been delivered the stream's newest entry and has
 * nothing pending: every entry has been applied and acknowledged, so every
 * output the consumer writes before its ack is in Redis.
 */
export async function waitDrained(
  redis: Redis,
  stream: string,
  group: string,
  timeoutMs = 30_000,
): Promise<void> {
  await until(
    async () => {
      const state = await groupState(redis, stream, group);
      const newest = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as RawEntry[];
      return (
        state !== undefined &&
        state.pending === 0 &&
        state.lastDeliveredId === (newest[0]?.[0] ?? '0-0')
      );
    },
    `group ${group} drained on ${stream}`,
    timeoutMs,
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type PartitionStream = 'strategySamples' | 'scores' | 'systemSamples' | 'alerts';

/** One partitioned stream read back over every partition: per partition, in stream order. */
export async function readPartitions<T>(
  redis: Redis,
  keys: Keys,
  partitions: number,
  stream: PartitionStream,
  schema: z.ZodType<T>,
): Promise<Entry<T>[][]> {
  const out: Entry<T>[][] = [];
  for (let p = 0; p < partitions; p++) {
    out.push(await readEntries(redis, keys.partition(p)[stream], schema));
  }
  return out;
}

/** waitDrained on the same stream of every partition. */
export async function waitPartitionsDrained(
  redis: Redis,
  keys: Keys,
  partitions: number,
  stream: PartitionStream,
  group: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let p = 0; p < partitions; p++) {
    await waitDrained(redis, keys.partition(p)[stream], group, Math.max(1, deadline - Date.now()));
  }
}
