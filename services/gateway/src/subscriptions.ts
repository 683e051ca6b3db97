import type { Topic } from '@quantmon/shared';
import { tagTopic, type FrameTags } from './topics.js';

/**
 * Which client wants which topic. A frame about strategy X goes to clients
 * subscribed to `strategy:X` or `strategy:*`, or to `tag:k=v` for one of
 * X's tags; each client gets it once.
 */
export class Subscriptions<C> {
  private readonly byTopic = new Map<string, Set<C>>();
  private readonly byClient = new Map<C, Set<Topic>>();
  /** Tag topics with subscribers: while 0, a broadcast looks up no tag. */
  private tagTopics = 0;
  /**
   * Per client, the number of the last tagged broadcast it was given: a
   * client in several matching sets gets the frame once, with no set built
   * per frame.
   */
  private readonly stamps = new Map<C, number>();
  private stamp = 0;

  /** How many topics `client` would hold after subscribing to `topics`. */
  countAfter(client: C, topics: readonly Topic[]): number {
    const mine = this.byClient.get(client);
    let n = mine?.size ?? 0;
    for (const t of new Set(topics)) if (!mine?.has(t)) n++;
    return n;
  }

  subscribe(client: C, topics: readonly Topic[]): Topic[] {
    const mine = this.byClient.get(client) ?? new Set<Topic>();
    this.byClient.set(client, mine);
    const added: Topic[] = [];
    for (const t of topics) {
      if (mine.has(t)) continue;
      mine.add(t);
      added.push(t);
      let set = this.byTopic.get(t);
      if (!set) {
        this.byTopic.set(t, (set = new Set()));
        if (t.startsWith('tag:')) this.tagTopics++;
      }
      set.add(client);
    }
    return added;
  }

  unsubscribe(client: C, topics: readonly Topic[]): void {
    const mine = this.byClient.get(client);
    if (!mine) return;
    for (const t of topics) {
      mine.delete(t);
      const set = this.byTopic.get(t);
      set?.delete(client);
      if (set?.size === 0) {
        this.byTopic.delete(t);
        if (t.startsWith('tag:')) this.tagTopics--;
      }
    }
  }

  remove(client: C): void {
    const mine = this.byClient.get(client);
    if (mine) this.unsubscribe(client, [...mine]);
    this.byClient.delete(client);
    this.stamps.delete(client);
  }

  topicsOf(client: C): ReadonlySet<Topic> {
    return this.byClient.get(client) ?? new Set();
  }

  /**
   * Clients that should receive a frame published on `topic` (strategy
   * frames also reach `strategy:*`, and the tag topics of their `tags`).
   */
  audience(topic: Topic, tags?: FrameTags): Set<C> {
    if (tags && this.tagTopics > 0) {
      const all = new Set<C>();
      this.forEachAudience(topic, (c) => all.add(c), tags);
      return all;
    }
    const direct = this.byTopic.get(topic);
    if (!topic.startsWith('strategy:') || topic === 'strategy:*') return direct ?? new Set();
    const wildcard = this.byTopic.get('strategy:*');
    if (!wildcard) return direct ?? new Set();
    if (!direct) return wildcard;
    return new Set([...direct, ...wildcard]);
  }

  /**
   * Call `fn` once per client that should receive a frame on `topic`,
   * without building a merged set (this runs once per broadcast).
   */
  forEachAudience(topic: Topic, fn: (client: C) => void, tags?: FrameTags): number {
    if (tags && this.tagTopics > 0 && topic.startsWith('strategy:')) {
      return this.forEachTagged(topic, fn, tags);
    }
    const direct = this.byTopic.get(topic);
    let n = 0;
    if (direct) {
      for (const c of direct) {
        fn(c);
        n++;
      }
    }
    if (!topic.startsWith('strategy:') || topic === 'strategy:*') return n;
    const wildcard = this.byTopic.get('strategy:*');
    if (!wildcard) return n;
    for (const c of wildcard) {
      if (direct?.has(c)) continue;
      fn(c);
      n++;
    }
    return n;
  }

  /** forEachAudience for a strategy frame when tag topics have subscribers: dedupes across sets. */
  private forEachTagged(topic: Topic, fn: (client: C) => void, tags: FrameTags): number {
    const stamp = ++this.stamp;
    let n = 0;
    const visit = (set: Set<C> | undefined): void => {
      if (!set) return;
      for (const c of set) {
        if (this.stamps.get(c) === stamp) continue;
        this.stamps.set(c, stamp);
        fn(c);
        n++;
      }
    };
    visit(this.byTopic.get(topic));
    visit(this.byTopic.get('strategy:*'));
    for (const key in tags) visit(this.byTopic.get(tagTopic(key, tags[key]!)));
    return n;
  }

  get clientCount(): number {
    return this.byClient.size;
  }
}
