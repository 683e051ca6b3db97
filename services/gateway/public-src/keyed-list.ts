/**
 * A list whose items keep their DOM nodes while what they show is the same.
 *
 * Why: the strategy view re-renders its alert list on every frame that
 * brings an update, several times a second under load, and the incident
 * view polls its silences. Rebuilding an item each time can replace its
 * button between the press and the release of a click, and the browser
 * then fires no click at all: an operator's "Acknowledge" or "Expire" is
 * lost with nothing on screen to say so. Here an item is rebuilt only when
 * its signature (everything it shows) changes, and the list's children are
 * touched only when their membership or order changes.
 */

/** What the list needs of its container: a DOM element, or a stand-in in tests. */
export interface ListParent<N> {
  readonly childNodes: ArrayLike<N>;
  replaceChildren(...nodes: N[]): void;
}

export class KeyedList<T, N = Node> {
  private shown = new Map<string, { sig: string; node: N }>();
  private emptyNode: N | undefined;

  constructor(
    private readonly parent: ListParent<N>,
    private readonly build: (item: T) => N,
    /** The placeholder shown when there are no items (built once). */
    private readonly empty?: () => N,
  ) {}

  /**
   * Show `items` in this order. `key` names an item across renders (an
   * incident id); `sig` is everything its node shows, so a change rebuilds it.
   */
  show(items: readonly T[], key: (item: T) => string, sig: (item: T) => string): void {
    const next = new Map<string, { sig: string; node: N }>();
    const nodes: N[] = [];
    for (const item of items) {
      const k = key(item);
      const s = sig(item);
      const had = this.shown.get(k);
      const node = had && had.sig === s ? had.node : this.build(item);
      next.set(k, { sig: s, node });
      nodes.push(node);
    }
    this.shown = next;
    if (nodes.length === 0 && this.empty) nodes.push((this.emptyNode ??= this.empty()));
    if (!sameNodes(this.parent.childNodes, nodes)) this.parent.replaceChildren(...nodes);
  }
}

function sameNodes<N>(current: ArrayLike<N>, wanted: readonly N[]): boolean {
  if (current.length !== wanted.length) return false;
  for (let i = 0; i < wanted.length; i++) if (current[i] !== wanted[i]) return false;
  return true;
}

const serials = new WeakMap<object, number>();
let nextSerial = 0;

/**
 * A number per object, the same for as long as it lives: the signature of
 * an item whose data is replaced, never changed in place, when it changes
 * (the alerts from live frames). Cheaper per render than its JSON, which
 * a desk with hundreds of open incidents would build for each of them on
 * every frame.
 */
export function objectSerial(o: object): number {
  let n = serials.get(o);
  if (n === undefined) serials.set(o, (n = nextSerial++));
  return n;
}
