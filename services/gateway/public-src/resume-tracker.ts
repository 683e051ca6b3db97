import type { ResumePositions, ResumeStream, ServerFrame, Topic } from '@quantmon/shared';
import { posAfter } from './format.js';

function streamOfTopic(topic: Topic): ResumeStream {
  return topic === 'system' ? 'system' : topic === 'alerts' ? 'alerts' : 'scores';
}

const STREAMS: readonly ResumeStream[] = ['scores', 'system', 'alerts'];
const STREAM_OF_FRAME = { score: 'scores', system: 'system', alert: 'alerts' } as const;

/**
 * Where a client stands in each stream, per partition: the newest `pos`
 * seen per partition from data frames (their `part`) and from the
 * `positions` of `snapshot` and `resumed` frames. `since()` is what to
 * send with the next subscribe, in the partitioned form
 * (`{"scores": {"0": "<id>", "1": "<id>"}}`). A `reset` forgets the
 * stream's positions: the snapshot that follows replaces them (a position
 * the gateway could not resume, e.g. from a flushed Redis, is not kept).
 * Frames without `part` (a gateway from before partitions) count as
 * partition 0. No DOM: shared by the dashboard and the test clients.
 */
export class ResumeTracker {
  private readonly last = new Map<ResumeStream, Map<string, string>>();

  track(f: ServerFrame): void {
    switch (f.type) {
      case 'score':
      case 'system':
      case 'alert':
        this.advance(STREAM_OF_FRAME[f.type], String(f.part ?? 0), f.pos);
        return;
      case 'reset':
        this.last.delete(streamOfTopic(f.topic));
        return;
      case 'snapshot':
      case 'resumed':
        if (f.positions) {
          for (const s of STREAMS) {
            for (const [part, pos] of Object.entries(f.positions[s] ?? {}))
              this.advance(s, part, pos);
          }
        } else if (f.pos !== undefined) this.advance(streamOfTopic(f.topic), '0', f.pos);
        return;
      default:
        return;
    }
  }

  /** The newest position seen in one partition of a stream. */
  position(stream: ResumeStream, part: number): string | undefined {
    return this.last.get(stream)?.get(String(part));
  }

  /** The `since` of the next subscribe; undefined when nothing was seen yet. */
  since(): ResumePositions | undefined {
    const out: ResumePositions = {};
    for (const [s, byPart] of this.last) {
      if (byPart.size > 0) out[s] = Object.fromEntries(byPart);
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }

  private advance(stream: ResumeStream, part: string, pos: string): void {
    let byPart = this.last.get(stream);
    if (!byPart) this.last.set(stream, (byPart = new Map()));
    if (posAfter(pos, byPart.get(part))) byPart.set(part, pos);
  }
}
