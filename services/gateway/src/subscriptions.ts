import type { Topic } from '@quantmon/shared';

/**
 * Which client wants which topic. A frame about strategy X goes to clients
 * subscribed to `strategy:X` or `strategy:*`; each client gets it once.
 */
export class Subscriptions<C> {
  private readonly byTopic = new Map<string, Set<C>>();
  private readonly byClient = new Map<C, Set<Topic>>();

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
      if (!set) this.byTopic.set(t, (set = new Set()));
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
      if (set?.size === 0) this.byTopic.delete(t);
    }
  }

  remove(client: C): void {
    const mine = this.byClient.get(client);
    if (mine) this.unsubscribe(client, [...mine]);
    this.byClient.delete(client);
  }

  topicsOf(client: C): ReadonlySet<Topic> {
    return this.byClient.get(client) ?? new Set();
  }

  /** Clients that should receive a frame published on `topic` (strategy frames also reach `strategy:*`). */
  audience(topic: Topic): Set<C> {
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
  forEachAudience(topic: Topic, fn: (client: C) => void): number {
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

  get clientCount(): number {
    return this.byClient.size;
  }
}
