import { Topic } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { Subscriptions } from './subscriptions.js';
import { tagOf, topicMatches } from './topics.js';

const RATES = { desk: 'rates', manager: 'kim lee' };

describe('tag topics', () => {
  it('are topics of the WebSocket protocol: tag:<key>=<value>, values with spaces included', () => {
    expect(Topic.safeParse('tag:desk=rates').success).toBe(true);
    expect(Topic.safeParse('tag:manager=kim lee').success).toBe(true);
    expect(Topic.safeParse('tag:Desk=rates').success).toBe(false);
    expect(Topic.safeParse('tag:desk=').success).toBe(false);
    expect(Topic.safeParse('tag:desk').success).toBe(false);
    expect(tagOf('tag:manager=kim lee')).toEqual({ key: 'manager', value: 'kim lee' });
    expect(tagOf('strategy:*')).toBeUndefined();
  });

  it('match the score frames of strategies carrying the tag, nothing else', () => {
    expect(topicMatches('tag:desk=rates', 'strategy:ust', RATES)).toBe(true);
    expect(topicMatches('tag:manager=kim lee', 'strategy:ust', RATES)).toBe(true);
    expect(topicMatches('tag:desk=fx', 'strategy:ust', RATES)).toBe(false);
    expect(topicMatches('tag:desk=rates', 'strategy:ust', undefined)).toBe(false);
    expect(topicMatches('tag:desk=rates', 'alerts', RATES)).toBe(false);
    expect(topicMatches('strategy:*', 'strategy:ust', RATES)).toBe(true);
  });

  it('deliver a strategy frame once to each client of its strategy, the wildcard or one of its tags', () => {
    const s = new Subscriptions<string>();
    s.subscribe('desk', ['tag:desk=rates']);
    s.subscribe('both', ['tag:desk=rates', 'tag:manager=kim lee', 'strategy:ust']);
    s.subscribe('all', ['strategy:*']);
    s.subscribe('fx', ['tag:desk=fx']);
    s.subscribe('other', ['strategy:bund']);
    const got: string[] = [];
    const n = s.forEachAudience('strategy:ust', (c) => got.push(c), RATES);
    expect(got.sort()).toEqual(['all', 'both', 'desk']);
    expect(n).toBe(3);
    expect([...s.audience('strategy:ust', RATES)].sort()).toEqual(['all', 'both', 'desk']);
    // An untagged frame reaches no tag subscriber.
    expect([...s.audience('strategy:ust')].sort()).toEqual(['all', 'both']);
  });

  it('stop looking tags up once no tag topic has a subscriber', () => {
    const s = new Subscriptions<string>();
    s.subscribe('a', ['tag:desk=rates']);
    s.unsubscribe('a', ['tag:desk=rates']);
    s.subscribe('b', ['strategy:*']);
    const got: string[] = [];
    s.forEachAudience('strategy:ust', (c) => got.push(c), RATES);
    expect(got).toEqual(['b']);
    s.subscribe('c', ['tag:desk=rates']);
    s.remove('c');
    expect([...s.audience('strategy:ust', RATES)]).toEqual(['b']);
  });
});
