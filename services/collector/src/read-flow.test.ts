import { describe, expect, it } from 'vitest';
import { ReadFlow } from './read-flow.js';

/** A connection's state, set by the test; drain callbacks run when the test says. */
function fakeIo() {
  const io = {
    pendingN: 0,
    bufferedN: 0,
    reading: true,
    drains: [] as (() => void)[],
    pause: () => void (io.reading = false),
    resume: () => void (io.reading = true),
    buffered: () => io.bufferedN,
    pending: () => io.pendingN,
    onceDrained: (cb: () => void) => void io.drains.push(cb),
    drain() {
      io.bufferedN = 0;
      for (const cb of io.drains.splice(0)) cb();
    },
  };
  return io;
}

const limits = { maxPending: 100, maxBufferedBytes: 1000 };

describe('ReadFlow', () => {
  it('stops reading at the pending limit and starts again at half', () => {
    const io = fakeIo();
    const flow = new ReadFlow(io, limits);
    io.pendingN = 99;
    flow.update();
    expect(io.reading).toBe(true);
    io.pendingN = 100;
    flow.update();
    expect(io.reading).toBe(false);
    io.pendingN = 51;
    flow.update();
    expect(io.reading).toBe(false);
    io.pendingN = 50;
    flow.update();
    expect(io.reading).toBe(true);
  });

  it('stops on unread answers and starts again when the socket drains', () => {
    const io = fakeIo();
    const flow = new ReadFlow(io, limits);
    io.bufferedN = 1001;
    flow.update();
    expect(io.reading).toBe(false);
    expect(io.drains).toHaveLength(1);
    io.drain();
    expect(io.reading).toBe(true);
  });

  it('still restarts when the drain came while answers were pending and the last answer found the buffer full', () => {
    const io = fakeIo();
    const flow = new ReadFlow(io, limits);
    io.pendingN = 100;
    io.bufferedN = 2000;
    flow.update();
    expect(io.reading).toBe(false);
    // The drain fires while many answers are still to come: not yet.
    io.drain();
    expect(io.reading).toBe(false);
    // The last answers are sent, and the client is again slow to read them.
    io.pendingN = 0;
    io.bufferedN = 900;
    flow.update();
    expect(io.reading).toBe(false);
    // Nothing else will happen but the drain: it must restart reading.
    io.drain();
    expect(io.reading).toBe(true);
  });

  it('watches one drain at a time', () => {
    const io = fakeIo();
    const flow = new ReadFlow(io, limits);
    io.bufferedN = 5000;
    flow.update();
    io.pendingN = 0;
    flow.update();
    flow.update();
    expect(io.drains).toHaveLength(1);
    expect(flow.isPaused).toBe(true);
  });
});
