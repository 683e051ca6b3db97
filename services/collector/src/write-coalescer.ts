import {
  batchWriteOrder,
  type AppendResult,
  type SampleOutcome,
  type StrategySample,
} from '@quantmon/shared';

/** What one request learns of its share of a coalesced write. */
export type RequestResult = Omit<AppendResult, 'entryIds'>;

/**
 * Told a request's share of its write, once: its result, or (without one)
 * the error. It must not throw: the other requests of the write are told
 * after it.
 */
export type WriteDone = (err: unknown, result?: RequestResult) => void;

interface Waiting {
  samples: StrategySample[];
  done: WriteDone;
}

export interface CoalescerOptions {
  /** Writes in flight at once (each one Lua step per partition it touches). */
  maxInFlight: number;
  /** Samples in one coalesced write; a larger request still goes alone. */
  maxSamples: number;
}

/** The counts of a request's slice of the combined outcomes. */
export function sliceResult(outcomes: readonly SampleOutcome[], reordered: number): RequestResult {
  const r: RequestResult = {
    accepted: 0,
    duplicates: 0,
    outOfOrder: 0,
    late: 0,
    reordered,
    outcomes: [...outcomes],
  };
  for (const o of outcomes) {
    if (o === 'written') r.accepted++;
    else if (o === 'late') {
      r.accepted++;
      r.late++;
    } else if (o === 'duplicate') r.duplicates++;
    else r.outOfOrder++;
  }
  return r;
}

/**
 * Group commit for ingest: requests that arrive while writes are in flight
 * (or in the same turn of the event loop) are written together in the next
 * write, one Lua step per partition for all of them, instead of one step
 * per request per partition. A trading system posting one sample per
 * request then costs Redis and this process a fraction of a write each; an
 * idle collector still writes a lone request at once. Writes leave in
 * arrival order on one connection, so Redis applies them in that order
 * and a strategy's samples keep their order across requests.
 *
 * All requests of a write share its fate: when a partition's share fails,
 * each gets the error (503), and a retry with the same ids writes only
 * what is missing (samples without ids cannot be told apart, as for a
 * single request).
 */
export class WriteCoalescer {
  private readonly queue: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly write: (samples: StrategySample[]) => Promise<AppendResult>,
    private readonly opts: CoalescerOptions,
  ) {}

  /**
   * Queue a request's samples for the next write: `done` hears its share of
   * the outcome. A callback, not a promise: the fast path's posts come by
   * the tens of thousands a second, and a promise per request, with its
   * closures, is allocation the collector pays for in young collections
   * (docs/performance.md, "Single-sample posts with callbacks").
   */
  enqueue(samples: StrategySample[], done: WriteDone): void {
    this.queue.push({ samples, done });
    // Wait for the rest of this turn's requests before the first write leaves.
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.pumpSoon);
    }
  }

  private readonly pumpSoon = (): void => {
    this.scheduled = false;
    this.pump();
  };

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const group: Waiting[] = [this.queue.shift()!];
      let n = group[0]!.samples.length;
      while (this.queue.length > 0 && n + this.queue[0]!.samples.length <= this.opts.maxSamples) {
        const w = this.queue.shift()!;
        group.push(w);
        n += w.samples.length;
      }
      this.inFlight++;
      void this.run(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run(group: Waiting[]): Promise<void> {
    if (group.length === 1) {
      const w = group[0]!;
      let result: AppendResult;
      try {
        result = await this.write(w.samples);
      } catch (err) {
        w.done(err);
        return;
      }
      w.done(null, result);
      return;
    }
    let result: AppendResult;
    try {
      result = await this.write(group.flatMap((w) => w.samples));
    } catch (err) {
      for (const w of group) w.done(err);
      return;
    }
    let at = 0;
    for (const w of group) {
      const n = w.samples.length;
      // `reordered` as the request alone would have been: what the client sent out of order.
      w.done(
        null,
        sliceResult(result.outcomes.slice(at, at + n), batchWriteOrder(w.samples).reordered),
      );
      at += n;
    }
  }
}
