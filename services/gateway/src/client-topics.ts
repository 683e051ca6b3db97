import type { Logger, ResetReason, ResumePositions, ResumeStream, Topic } from '@quantmon/shared';
import type { Connection, ConnectionLimits } from './connection.js';
import type { GatewayState } from './gateway-state.js';
import {
  encodeBroadcast,
  sendError,
  sendFrame,
  sendPieces,
  withoutSpan,
} from './frame-encoding.js';
import { jsonPieces } from './json-pieces.js';
import { newestOf, positionsRecord, sinceFor } from './partition-positions.js';
import type { ReplayBudget, ReplayResult } from './resume.js';
import type { Broadcast } from './stream-feed.js';
import { compareIds } from './stream-pos.js';
import type { Subscriptions } from './subscriptions.js';
import { streamOf, topicMatches } from './topics.js';

/** Snapshots of more score updates than this go out as a fragmented message (json-pieces.ts). */
const FRAGMENT_ABOVE = 64;

/** What a client missed in one partition of one stream since `since`. */
export type Replayer = (
  stream: ResumeStream,
  part: number,
  since: string,
  match: (b: Broadcast) => boolean,
  budget: ReplayBudget,
) => Promise<ReplayResult>;

export interface TopicOptions {
  state: GatewayState;
  log: Logger;
  limits: ConnectionLimits;
  /** The pipeline's partition count P. */
  partitions: number;
  replay: Replayer;
  /** Most entries read (over all partitions of a stream) to resume; beyond: `too_far_behind`. */
  replayMax: number;
}

/**
 * A WebSocket client's subscribe and unsubscribe: a snapshot for each new
 * topic, or a replay of what it missed since the positions it sends.
 */
export class ClientTopics {
  constructor(
    private readonly subs: Subscriptions<Connection>,
    private readonly opts: TopicOptions,
  ) {}

  unsubscribe(conn: Connection, topics: Topic[]): void {
    this.subs.unsubscribe(conn, topics);
    sendFrame(conn, { type: 'unsubscribed', topics });
  }

  /**
   * New topics get a snapshot, or with `since` for their stream (a position
   * per partition), a replay of what came after it. During a replay the
   * stream's live frames for this client are held, then released past the
   * last entry the replay read in each partition: nothing missed, nothing
   * twice. Positions that do not cover every partition get `reset`
   * (`partitioned`) and a snapshot.
   */
  async subscribe(
    conn: Connection,
    topics: Topic[],
    since: ResumePositions | undefined,
  ): Promise<void> {
    if (conn.closed) return;
    const max = this.opts.limits.maxTopics;
    if (this.subs.countAfter(conn, topics) > max) {
      return sendError(
        conn,
        `subscribe refused: it would hold more than ${max} topics on this connection (GATEWAY_MAX_TOPICS); unsubscribe some or use strategy:*`,
      );
    }
    const added = this.subs.subscribe(conn, topics);
    sendFrame(conn, { type: 'subscribed', topics });
    const resuming = new Map<ResumeStream, { since: string[]; added: Topic[] }>();
    for (const t of added) {
      const s = streamOf(t);
      const ids = sinceFor(since?.[s], this.opts.partitions);
      if (ids === undefined) {
        this.sendSnapshot(conn, t);
        continue;
      }
      if (ids === 'partitioned') {
        sendFrame(conn, { type: 'reset', topic: t, reason: 'partitioned' });
        this.sendSnapshot(conn, t);
        continue;
      }
      const r = resuming.get(s) ?? { since: ids, added: [] };
      r.added.push(t);
      resuming.set(s, r);
    }
    for (const s of resuming.keys()) conn.hold(s);
    await Promise.all([...resuming].map(([s, r]) => this.resumeStream(conn, s, r.since, r.added)));
  }

  private async resumeStream(
    conn: Connection,
    stream: ResumeStream,
    since: readonly string[],
    added: Topic[],
  ): Promise<void> {
    const mine = [...this.subs.topicsOf(conn)].filter((t) => streamOf(t) === stream);
    const match = (b: Broadcast): boolean => mine.some((t) => topicMatches(t, b.topic, b.tags));
    const budget: ReplayBudget = { left: this.opts.replayMax };
    const results = await Promise.all(
      since.map(async (id, part): Promise<ReplayResult> => {
        try {
          return await this.opts.replay(stream, part, id, match, budget);
        } catch (err) {
          this.opts.log.warn({ err, stream, part }, 'resume read failed');
          return { ok: false, reason: 'unavailable' };
        }
      }),
    );
    if (conn.closed) return;
    const entries: Broadcast[] = [];
    const cutoffs: string[] = [];
    for (const r of results) {
      if (!r.ok) return this.resetStream(conn, stream, mine, r.reason);
      entries.push(...r.entries);
      cutoffs.push(r.cutoff);
    }
    // Partitions interleaved by position (within one partition, stream order).
    if (results.length > 1) entries.sort((a, b) => compareIds(a.pos, b.pos) || a.part - b.part);
    for (const e of entries) conn.sendOwn(encodeBroadcast(e, conn.omitSpan));
    const at = {
      pos: newestOf(cutoffs),
      positions: { [stream]: positionsRecord(cutoffs) },
    };
    for (const t of added) {
      const replayed = entries.filter((e) => topicMatches(t, e.topic, e.tags)).length;
      sendFrame(conn, { type: 'resumed', topic: t, replayed, ...at });
    }
    conn.release(stream, cutoffs);
  }

  /**
   * Every topic of this stream starts over from a snapshot; held frames up
   * to the snapshot's positions are in it.
   */
  private resetStream(
    conn: Connection,
    stream: ResumeStream,
    topics: readonly Topic[],
    reason: ResetReason,
  ): void {
    for (const t of topics) {
      sendFrame(conn, { type: 'reset', topic: t, reason });
      this.sendSnapshot(conn, t);
    }
    conn.release(stream, this.opts.state.pos[stream]);
  }

  private sendSnapshot(conn: Connection, topic: Topic): void {
    const snap = this.opts.state.snapshot(topic);
    if (snap.scores && conn.omitSpan) snap.scores = snap.scores.map(withoutSpan);
    if (snap.scores && snap.scores.length > FRAGMENT_ABOVE) {
      const { scores, ...rest } = snap;
      sendPieces(conn, jsonPieces({ type: 'snapshot', topic }, 'scores', scores, rest));
    } else sendFrame(conn, { type: 'snapshot', topic, ...snap });
  }
}
