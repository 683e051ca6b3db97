import type { HistoryPage, Keys, Topic } from '@quantmon/shared';
import type { Redis } from 'ioredis';
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

/**
 * Stream entries of one topic written between `from` and `to` (epoch ms,
 * the entries' write time), oldest first. Read newest first with
 * XREVRANGE, at most `maxScan` entries, so the newest part of a range is
 * always there; more matches than `limit` are thinned evenly (stride
 * doubling keeps memory at 2 x limit however long the range).
 */
export async function readHistory(
  redis: Redis,
  keys: Keys,
  req: HistoryRequest,
  maxScan: number,
): Promise<HistoryPage> {
  const stream = streamOf(req.topic);
  const key = streamKey(keys, stream);
  let kept: [string, string[]][] = [];
  let stride = 1;
  let matched = 0;
  let scanned = 0;
  let truncated = false;
  let end = String(req.to);
  for (;;) {
    const count = Math.min(PAGE, maxScan - scanned);
    if (count <= 0) {
      truncated = true;
      break;
    }
    const page = (await redis.xrevrange(key, end, String(req.from), 'COUNT', count)) as [
      string,
      string[],
    ][];
    scanned += page.length;
    for (const entry of page) {
      if (!rawMatches(req.topic, entry[1][1] ?? '')) continue;
      if (matched++ % stride !== 0) continue;
      kept.push(entry);
      if (kept.length >= 2 * req.limit) {
        stride *= 2;
        kept = kept.filter((_, i) => i % 2 === 0);
        truncated = true;
      }
    }
    const last = page[page.length - 1];
    if (page.length < count || !last) break;
    end = `(${last[0]}`;
  }
  const points: HistoryPage['points'] = [];
  for (const [pos, fields] of kept.reverse()) {
    const d = decodeBroadcast(stream, pos, fields);
    if (!d.ok || !topicMatches(req.topic, d.b.topic)) continue;
    const f = d.b.frame;
    if (f.type === 'score' || f.type === 'system' || f.type === 'alert')
      points.push({ pos, data: f.data });
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
