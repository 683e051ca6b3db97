import { describe, expect, it } from 'vitest';
import { createRegistry, DROPPED_DEFAULT_METRICS } from './prom.js';

describe('createRegistry', () => {
  it('exports no non-counter whose name ends in _total (promtool check metrics)', async () => {
    const text = await createRegistry('test').metrics();
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(
      (m) => [m[1] ?? '', m[2] ?? ''] as const,
    );
    expect(types.length).toBeGreaterThan(10);
    const offending = types.filter(([name, type]) => name.endsWith('_total') && type !== 'counter');
    expect(offending).toEqual([]);
    for (const dropped of Object.keys(DROPPED_DEFAULT_METRICS)) expect(text).not.toContain(dropped);
    // What the dropped totals were a sum of is still there, by type.
    expect(text).toContain('# TYPE quantmon_nodejs_active_handles gauge');
    expect(text).toMatch(/quantmon_nodejs_active_handles\{type="[^"]+",service="test"\} \d+/);
  });
});
