import type { Keys, ResumeStream, Topic } from '@quantmon/shared';

export const RESUME_STREAMS: readonly ResumeStream[] = ['scores', 'system', 'alerts'];

/** The stream a topic's frames come from. */
export function streamOf(topic: Topic): ResumeStream {
  if (topic === 'system') return 'system';
  if (topic === 'alerts') return 'alerts';
  return 'scores';
}

/** Redis key of a resumable stream in partition `part`. */
export function streamKey(keys: Keys, s: ResumeStream, part: number): string {
  const pk = keys.partition(part);
  return s === 'scores' ? pk.scores : s === 'system' ? pk.systemSamples : pk.alerts;
}

/** Which resumable stream, and which partition, a Redis key is. */
export type StreamIndex = ReadonlyMap<string, { stream: ResumeStream; part: number }>;

/** Every resumable stream key of partitions 0 .. partitions-1. */
export function streamIndex(keys: Keys, partitions: number): StreamIndex {
  const index = new Map<string, { stream: ResumeStream; part: number }>();
  for (let part = 0; part < partitions; part++) {
    for (const stream of RESUME_STREAMS) index.set(streamKey(keys, stream, part), { stream, part });
  }
  return index;
}

/** Strategy tags as score updates carry them. */
export type FrameTags = Readonly<Record<string, string>> | undefined;

/** The tag of a tag topic (`tag:desk=rates`: desk, rates); undefined for other topics. */
export function tagOf(topic: Topic): { key: string; value: string } | undefined {
  if (!topic.startsWith('tag:')) return undefined;
  const eq = topic.indexOf('=');
  return { key: topic.slice(4, eq), value: topic.slice(eq + 1) };
}

/** The tag topic of one tag: `tag:desk=rates`. */
export function tagTopic(key: string, value: string): Topic {
  return `tag:${key}=${value}`;
}

/**
 * Does a frame published on `frameTopic` (a strategy's score frame carrying
 * the strategy's `tags`) belong to a subscription to `topic`?
 */
export function topicMatches(topic: Topic, frameTopic: Topic, tags?: FrameTags): boolean {
  if (topic === frameTopic) return true;
  if (topic === 'strategy:*') return frameTopic.startsWith('strategy:');
  const tag = tagOf(topic);
  return tag !== undefined && tags?.[tag.key] === tag.value && frameTopic.startsWith('strategy:');
}
