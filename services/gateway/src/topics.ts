import type { Keys, ResumeStream, Topic } from '@quantmon/shared';

/** The stream a topic's frames come from. */
export function streamOf(topic: Topic): ResumeStream {
  if (topic === 'system') return 'system';
  if (topic === 'alerts') return 'alerts';
  return 'scores';
}

/** Redis key of a resumable stream. */
export function streamKey(keys: Keys, s: ResumeStream): string {
  return s === 'scores' ? keys.scores : s === 'system' ? keys.systemSamples : keys.alerts;
}

/** Does a frame published on `frameTopic` belong to a subscription to `topic`? */
export function topicMatches(topic: Topic, frameTopic: Topic): boolean {
  return topic === frameTopic || (topic === 'strategy:*' && frameTopic.startsWith('strategy:'));
}
