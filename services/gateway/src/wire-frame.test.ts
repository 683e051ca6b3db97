import * as wsModule from 'ws';

// ws exports its Receiver at runtime; @types/ws does not declare it.
type ReceiverLike = {
  on(event: 'message', fn: (data: Buffer, isBinary: boolean) => void): void;
  write(chunk: Buffer): void;
};
const { Receiver } = wsModule as unknown as {
  Receiver: new (opts: { isServer: boolean }) => ReceiverLike;
};
import { describe, expect, it } from 'vitest';
import { framePayload, isFinal, textFragments, textFrame } from './wire-frame.js';

/** Parse with ws's own receiver (client side: server frames are unmasked): the messages it gives. */
function messages(...frames: Buffer[]): string[] {
  const got: string[] = [];
  const r = new Receiver({ isServer: false });
  r.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    got.push(String(data));
  });
  for (const f of frames) r.write(f);
  return got;
}

function parse(frame: Buffer): string {
  return messages(frame)[0] ?? '';
}

describe('textFrame', () => {
  it('builds frames ws parses, for each length encoding', () => {
    for (const n of [0, 5, 125, 126, 65_535, 65_536, 200_000]) {
      const text = 'x'.repeat(n);
      const f = textFrame(Buffer.from(text));
      expect(parse(f)).toBe(text);
      expect(String(framePayload(f))).toBe(text);
    }
  });
});

describe('textFragments', () => {
  it('gives one message ws joins from its pieces, and the next message after it stays whole', () => {
    const pieces = ['{"a":[', '1,2,', 'x'.repeat(70_000), '3]}'].map((t) => Buffer.from(t));
    const frames = textFragments(pieces);
    expect(frames).toHaveLength(4);
    expect(frames.map(isFinal)).toEqual([false, false, false, true]);
    const after = textFrame(Buffer.from('{"b":1}'));
    expect(messages(...frames, after)).toEqual([pieces.map(String).join(''), '{"b":1}']);
  });

  it('is a single plain text frame for one piece', () => {
    const [f, ...rest] = textFragments([Buffer.from('{"one":1}')]);
    expect(rest).toEqual([]);
    expect(isFinal(f!)).toBe(true);
    expect(parse(f!)).toBe('{"one":1}');
  });
});
