/**
 * A handler's pause (ReadPause, partition-reader.ts): the owned reader
 * waits before its next read once the read is done with, so a beat's pause
 * holds none of its entries (before, the scorer slept inside its handler,
 * and every partition's last read stayed alive through each young-
 * generation collection); a term that ends during a pause ends at once.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runOwnedReader, type OwnedBatch } from '@quantmon/shared';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { writeEntries } from '../helpers/streams.js';

let srv: TestRedis;
let redis: Redis;

beforeAll(async () => {
  srv = await startTestRedis();
  redis = new Redis(srv.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  redis.disconnect();
  await srv.dispose();
});

/** A full collection on demand, without starting the test process with --expose-gc. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const Message = z.object({ n: z.number() });
type Message = z.infer<typeof Message>;
const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the owned reader pausing for its handler', () => {
  it('lets go of the read before the pause, reads nothing during it, and ends at once when the term does', async () => {
    const stream = `${uniquePrefix('pause')}:s`;
    const group = 'g';
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    await writeEntries(redis, stream, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const reader = new Redis(srv.url, { maxRetriesPerRequest: null });
    const ctl = new AbortController();
    const handled: number[][] = [];
    let firstEntry: WeakRef<object> | undefined;
    let paused!: () => void;
    const pausing = new Promise<void>((r) => (paused = r));
    const done = runOwnedReader<Message>({
      redis: reader,
      streams: [{ key: stream, schema: Message, startId: '0' }],
      group,
      deadLetterStream: `${stream}:dead`,
      signal: ctl.signal,
      log: pino({ level: 'silent' }),
      blockMs: 100,
      handle: async (batches: OwnedBatch<Message>[]) => {
        handled.push(batches.flatMap((b) => b.entries.map((e) => e.value.n)));
        firstEntry ??= new WeakRef(batches[0]!.entries[0]!.value);
        paused();
        return { pauseMs: 60_000 };
      },
    });

    await pausing;
    expect(handled).toEqual([[1, 2, 3]]);
    await writeEntries(redis, stream, [{ n: 4 }]);
    // A later task: a WeakRef keeps its target until the job that made it ends.
    await later(300);
    const gc = collector();
    gc();
    gc();
    expect(firstEntry?.deref(), 'the paused reader still holds the read it handled').toBe(
      undefined,
    );
    expect(handled, 'a read during the pause').toEqual([[1, 2, 3]]);

    const t0 = Date.now();
    ctl.abort();
    await done;
    expect(Date.now() - t0).toBeLessThan(5_000);
    reader.disconnect();
  });
});
