import {
  allPartitions,
  partitionOf,
  type HistoryPage,
  type Keys,
  type Topic,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import { newestFirst, type MergedEntry } from './newest-first.js';
import { decodeBroadcast } from './stream-feed.js';
import { streamKey, streamOf, topicMatches } from './topics.js';

export interface HistoryRequest {
  topic: Topic;
  from: number;
  to: number;
  limit: number;
}

const PAGE = 1000;

/** A cheap pre-filter on the raw JSON before parsing it: the strategy's id as written. */
function rawMatches(topic: Topic, json: string): boolean {
  if (!topic.startsWith('strategy:') || topic === 'strategy:*') return true;
  return json.includes(`"strategy":"${topic.slice('strategy:'.length)}"`);
}

/** The partitions a topic's entries can be in: one strategy's own, else all. */
export function partitionsOf(topic: Topic, partitions: number): number[] {
  if (topic.startsWith('strategy:') && topic !== 'strategy:*') {
    return [partitionOf(topic.slice('strategy:'.length), partitions)];
  }
  return allPartitions(partitions);
}

/**
 * Stream entries of one topic written between `from` and `to` (epoch ms,
 * the entries' write time), oldest first, over the partitions that can
 * hold them (a strategy's own partition; every partition for `system`,
 * `alerts` and `strategy:*`). Read newest first with XREVRANGE, at most
 * `maxScan` entries, so the newest part of a range is always there; more
 * matches than `limit` are thinned evenly (stride doubling keeps memory at
 * 2 x limit however long the range).
 */
export async function readHistory(
  redis: Redis,
  keys: Keys,
  partitions: number,
  req: HistoryRequest,
  maxScan: number,
): Promise<HistoryPage> {
  const stream = streamOf(req.topic);
  const sources = partitionsOf(req.topic, partitions).map((part) => ({
    part,
    key: streamKey(keys, stream, part),
  }));
  let kept: MergedEntry[] = [];
  let stride = 1;
  let matched = 0;
  let scanned = 0;
  let truncated = false;
  const entries = newestFirst(
    redis,
    sources,
    String(req.to),
    String(req.from),
    Math.min(PAGE, maxScan),
  );
  for await (const m of entries) {
    if (scanned++ >= maxScan) {
      truncated = true;
      break;
    }
    if (!rawMatches(req.topic, m.entry[1][1] ?? '')) continue;
    if (matched++ % stride !== 0) continue;
    kept.push(m);
    if (kept.length >= 2 * req.limit) {
      stride *= 2;
      kept = kept.filter((_, i) => i % 2 === 0);
      truncated = true;
    }
  }
  const points: HistoryPage['points'] = [];
  for (const { part, entry } of kept.reverse()) {
    const [pos, fields] = entry;
    const d = decodeBroadcast(stream, part, pos, fields);
    if (!d.ok || !topicMatches(req.topic, d.b.topic, d.b.tags)) continue;
    const f = d.b.frame;
    if (f.type === 'score' || f.type === 'system' || f.type === 'alert')
      points.push({ pos, part, data: f.data });
  }
  if (points.length > req.limit) {
    truncated = true;
    const step = points.length / req.limit;
    const thinned = Array.from({ length: req.limit }, (_, i) => points[Math.floor(i * step)]!);
    thinned[thinned.length - 1] = points[points.length - 1]!;
    return { topic: req.topic, from: req.from, to: req.to, points: thinned, truncated };
  }
  return { topic: req.topic, from: req.from, to: req.to, points, truncated };
}
