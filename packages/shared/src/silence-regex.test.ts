import { describe, expect, it } from 'vitest';
import { SilenceMatcher } from './schemas/alert-commands.js';
import { compileSilenceRegex, SILENCE_REGEX_MAX_LENGTH } from './silence-regex.js';

describe('compileSilenceRegex', () => {
  it('matches the whole value with RE2 syntax', () => {
    expect(compileSilenceRegex('strategy/al.*').test('strategy/alpha')).toBe(true);
    expect(compileSilenceRegex('al.*').test('strategy/alpha')).toBe(false);
    expect(compileSilenceRegex('a|b').test('ab')).toBe(false);
  });

  it('refuses lookaround, backreferences, bad syntax and overlong patterns, saying why', () => {
    expect(() => compileSilenceRegex('(?=x)x')).toThrow(/RE2 syntax.*\(\?=/);
    expect(() => compileSilenceRegex('(a)\\1')).toThrow(/RE2 syntax/);
    expect(() => compileSilenceRegex('(a')).toThrow(/missing closing \)/);
    expect(() => compileSilenceRegex('a'.repeat(SILENCE_REGEX_MAX_LENGTH + 1))).toThrow(
      /257 characters, over the limit of 256/,
    );
  });

  it('is what the silence schema validates with', () => {
    const bad = SilenceMatcher.safeParse({ name: 'subject', value: '(?!x).*', op: '=~' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/RE2 syntax/);
    expect(SilenceMatcher.safeParse({ name: 'subject', value: '(?!x).*', op: '=' }).success).toBe(
      true,
    );
  });
});
