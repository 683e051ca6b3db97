import type { AppendResult, SampleOutcome, StrategySample } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { WriteCoalescer, type RequestResult } from './write-coalescer.js';

const s = (strategy: string, ts: number, id?: string): StrategySample => ({
  strategy,
  ts,
  return: 0,
  receivedAt: 0,
  ...(id ? { id } : {}),
});

/** A fake store: ids seen are duplicates; records each write; resolves when told to. */
function fakeStore() {
  const calls: StrategySample[][] = [];
  const seen = new Set<string>();
  const gates: (() => void)[] = [];
  let fail: Error | undefined;
  const write = async (samples: StrategySample[]): Promise<AppendResult> => {
    calls.push(samples);
    await new Promise<void>((r) => gates.push(r));
    if (fail) throw fail;
    const outcomes: SampleOutcome[] = samples.map((x) =>
      x.id && seen.has(x.id) ? 'duplicate' : (x.id && seen.add(x.id), 'written'),
    );
    return {
      accepted: outcomes.filter((o) => o === 'written').length,
      duplicates: outcomes.filter((o) => o === 'duplicate').length,
      outOfOrder: 0,
      late: 0,
      reordered: 0,
      outcomes,
      entryIds: [],
    };
  };
  return {
    calls,
    write,
    release: () => gates.splice(0).forEach((g) => g()),
    failWith: (e: Error) => (fail = e),
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A request's share as a promise. */
const submit = (c: WriteCoalescer, samples: StrategySample[]): Promise<RequestResult> =>
  new Promise((resolve, reject) => c.enqueue(samples, (err, r) => (r ? resolve(r) : reject(err))));

describe('WriteCoalescer', () => {
  it('writes the requests of one turn together and gives each its own share of the outcome', async () => {
    const store = fakeStore();
    const c = new WriteCoalescer(store.write, { maxInFlight: 1, maxSamples: 100 });
    const a = submit(c, [s('x', 1, 'a1'), s('x', 2, 'a2')]);
    const b = submit(c, [s('y', 1, 'a1')]); // another strategy's id space is the store's concern
    const d = submit(c, [s('x', 3, 'd1'), s('x', 0, 'd2')]);
    await tick();
    expect(store.calls).toHaveLength(1);
    expect(store.calls[0]!.map((x) => x.ts)).toEqual([1, 2, 1, 3, 0]);
    store.release();
    expect(await a).toMatchObject({ accepted: 2, duplicates: 0, reordered: 0 });
    expect(await b).toMatchObject({ accepted: 0, duplicates: 1, outcomes: ['duplicate'] });
    // `reordered` is what the request itself sent out of ts order.
    expect(await d).toMatchObject({ accepted: 2, reordered: 2 });
  });

  it('queues what arrives during a write and sends it, in order, as the next one', async () => {
    const store = fakeStore();
    const c = new WriteCoalescer(store.write, { maxInFlight: 1, maxSamples: 3 });
    const first = submit(c, [s('x', 1)]);
    await tick();
    const later = [submit(c, [s('x', 2)]), submit(c, [s('x', 3)]), submit(c, [s('x', 4)])];
    const big = submit(c, [s('x', 5), s('x', 6), s('x', 7), s('x', 8)]);
    await tick();
    expect(store.calls).toHaveLength(1); // one in flight
    store.release();
    await first;
    await tick();
    expect(store.calls.map((w) => w.map((x) => x.ts))).toEqual([[1], [2, 3, 4]]);
    store.release();
    await Promise.all(later);
    await tick();
    // Over maxSamples: a request still goes, alone.
    expect(store.calls.at(-1)!.map((x) => x.ts)).toEqual([5, 6, 7, 8]);
    store.release();
    expect((await big).accepted).toBe(4);
  });

  it('fails every request of a failed write, and goes on with the next', async () => {
    const store = fakeStore();
    const c = new WriteCoalescer(store.write, { maxInFlight: 2, maxSamples: 100 });
    store.failWith(new Error('partition 3 not written'));
    const both = [submit(c, [s('x', 1)]), submit(c, [s('y', 1)])];
    await tick();
    store.release();
    for (const p of both) await expect(p).rejects.toThrow('partition 3');
  });

  it('tells a callback (enqueue) its share once, coalesced with promised requests, or the error', async () => {
    const store = fakeStore();
    const c = new WriteCoalescer(store.write, { maxInFlight: 1, maxSamples: 100 });
    const heard: unknown[][] = [];
    c.enqueue([s('x', 1, 'e1')], (err, r) => heard.push([err, r?.accepted, r?.outcomes]));
    const promised = submit(c, [s('x', 2, 'e1')]);
    c.enqueue([s('x', 3, 'e2'), s('x', 4, 'e3')], (err, r) => heard.push([err, r?.accepted]));
    await tick();
    expect(store.calls).toHaveLength(1);
    store.release();
    expect(await promised).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(heard).toEqual([
      [null, 1, ['written']],
      [null, 2],
    ]);
    store.failWith(new Error('storage down'));
    c.enqueue([s('x', 5, 'e4')], (err, r) => heard.push([(err as Error).message, r]));
    await tick();
    store.release();
    await tick();
    expect(heard.at(-1)).toEqual(['storage down', undefined]);
  });
});
