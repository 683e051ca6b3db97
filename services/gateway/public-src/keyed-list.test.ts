import { describe, expect, it } from 'vitest';
import { KeyedList, objectSerial, type ListParent } from './keyed-list.js';

interface Item {
  id: string;
  text: string;
}

/** A container that records how often its children were replaced. */
function parent(): ListParent<{ text: string }> & {
  childNodes: { text: string }[];
  replaced: number;
} {
  const p = {
    childNodes: [] as { text: string }[],
    replaced: 0,
    replaceChildren(...nodes: { text: string }[]) {
      p.childNodes = nodes;
      p.replaced++;
    },
  };
  return p;
}

describe('KeyedList', () => {
  const key = (i: Item) => i.id;
  const sig = (i: Item) => i.text;

  it('keeps an unchanged item’s node and leaves the container alone when nothing changed', () => {
    const p = parent();
    let built = 0;
    const list = new KeyedList<Item, { text: string }>(p, (i) => {
      built++;
      return { text: i.text };
    });
    list.show(
      [
        { id: 'a', text: 'one' },
        { id: 'b', text: 'two' },
      ],
      key,
      sig,
    );
    const [a, b] = [p.childNodes[0], p.childNodes[1]];
    list.show(
      [
        { id: 'a', text: 'one' },
        { id: 'b', text: 'two' },
      ],
      key,
      sig,
    );
    expect(p.replaced).toBe(1);
    expect(built).toBe(2);
    // A changed item is rebuilt; its neighbour keeps its node.
    list.show(
      [
        { id: 'a', text: 'one' },
        { id: 'b', text: 'two, acked' },
      ],
      key,
      sig,
    );
    expect(p.childNodes[0]).toBe(a);
    expect(p.childNodes[1]).not.toBe(b);
    expect(p.childNodes[1]?.text).toBe('two, acked');
    // A new order moves the same nodes.
    const b2 = p.childNodes[1];
    list.show(
      [
        { id: 'b', text: 'two, acked' },
        { id: 'a', text: 'one' },
      ],
      key,
      sig,
    );
    expect([p.childNodes[0], p.childNodes[1]]).toEqual([b2, a]);
    expect(built).toBe(3);
  });

  it('shows its placeholder when empty, and forgets items that left', () => {
    const p = parent();
    const list = new KeyedList<Item, { text: string }>(
      p,
      (i) => ({ text: i.text }),
      () => ({ text: 'No active alerts' }),
    );
    list.show([], key, sig);
    expect(p.childNodes.map((n) => n.text)).toEqual(['No active alerts']);
    list.show([], key, sig);
    expect(p.replaced).toBe(1);
    list.show([{ id: 'a', text: 'one' }], key, sig);
    const a = p.childNodes[0];
    list.show([], key, sig);
    // Back after leaving: built anew, not the node of before.
    list.show([{ id: 'a', text: 'one' }], key, sig);
    expect(p.childNodes[0]).not.toBe(a);
    expect(p.childNodes.map((n) => n.text)).toEqual(['one']);
  });
});

describe('objectSerial', () => {
  it('is the same for one object, and differs for an equal copy', () => {
    const a = { id: 'a', text: 'one' };
    expect(objectSerial(a)).toBe(objectSerial(a));
    expect(objectSerial({ ...a })).not.toBe(objectSerial(a));
  });
});
