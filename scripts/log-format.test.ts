import { describe, expect, it } from 'vitest';
import { formatLogLine } from './log-format.js';

describe('formatLogLine', () => {
  it('turns a pino line into one readable line with its extra fields', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 0, 1, 12, 0, 1),
      pid: 1,
      service: 'scorer',
      msg: 'slow',
      ms: 12,
    });
    expect(formatLogLine('scorer', line)).toBe('12:00:01 scorer    warn  slow ms=12');
  });
  it('passes other output through', () => {
    expect(formatLogLine('demo', 'hello')).toMatch(/ demo {6}hello$/);
  });
});
