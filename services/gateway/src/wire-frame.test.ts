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
import { framePayload, textFrame } from './wire-frame.js';

/** Parse with ws's own receiver (client side: server frames are unmasked). */
function parse(frame: Buffer): string {
  let got = '';
  const r = new Receiver({ isServer: false });
  r.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    got = String(data);
  });
  r.write(frame);
  return got;
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
