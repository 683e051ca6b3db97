import { compileCatalogue, type StrategySample } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { DEFAULT_METRICS_OPTIONS } from './metrics/index.js';
import { ScorerCore } from './scorer-core.js';

const sample = (strategy: string, i: number): StrategySample => ({
  strategy,
  ts: 1_767_225_600_000 + i * 60_000,
  return: Math.sin(i) / 100,
  receivedAt: 0,
});

describe('the window hold across a catalogue rebuild', () => {
  it('keeps holding the emptied windows oldest sample until the rebuild replayed them', () => {
    const first = compileCatalogue({ strategies: { 'fx-*': { window: 5 } } });
    const core = new ScorerCore(DEFAULT_METRICS_OPTIONS, first);
    for (let i = 0; i < 8; i++) core.apply(`${100 + i}-0`, sample('fx-a', i), 0);
    for (let i = 0; i < 8; i++) core.apply(`${200 + i}-0`, sample('eq-b', i), 0);
    expect(core.oldestHeldEntryMs()).toBe(103);

    const changed = core.setCatalogue(
      compileCatalogue({ strategies: { 'fx-*': { window: 5, periodsPerYear: 12 } } }),
    );
    expect(changed.map((c) => c.strategy)).toEqual(['fx-a']);
    // fx-a's window is empty now, but the replay about to run reads back to 103.
    expect(core.oldestHeldEntryMs()).toBe(103);
    // A second change before the replay keeps the first floor.
    core.setCatalogue(
      compileCatalogue({ strategies: { 'fx-*': { window: 5, periodsPerYear: 52 } } }),
    );
    expect(core.oldestHeldEntryMs()).toBe(103);

    for (let i = 3; i < 8; i++) core.restore(`${100 + i}-0`, sample('fx-a', i));
    core.markRebuilt('fx-a', 'test', 5, 0);
    expect(core.oldestHeldEntryMs()).toBe(103);
    // Once rebuilt, the floor is gone: the window's own samples hold the stream.
    for (let i = 8; i < 11; i++) core.apply(`${100 + i}-0`, sample('fx-a', i), 0);
    expect(core.oldestHeldEntryMs()).toBe(106);
  });
});
