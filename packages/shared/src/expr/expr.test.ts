import { describe, expect, it } from 'vitest';
import { compileExpr, type NameResolver } from './evaluate.js';
import { parse } from './parse.js';
import { ExprError, tokenize } from './tokenize.js';

type Vars = Record<string, number | null>;

/** Names are the keys of the context given at compile time; `x@w` reads key "x@w". */
const vars =
  (known: Vars): NameResolver<Vars> =>
  (name, window) => {
    const key = window === undefined ? name : `${name}@${window}`;
    return Object.hasOwn(known, key) ? (c) => c[key] ?? null : `unknown name ${key}`;
  };

const ev = (src: string, ctx: Vars = {}): number | null =>
  compileExpr(src, vars(ctx)).evaluate(ctx);

/** The ExprError message of compiling src. */
function error(src: string, ctx: Vars = {}): string {
  try {
    compileExpr(src, vars(ctx));
  } catch (err) {
    if (err instanceof ExprError) return err.message;
    throw err;
  }
  return 'compiled';
}

describe('expression language', () => {
  it('computes with the usual precedence and associativity', () => {
    expect(ev('1 + 2 * 3')).toBe(7);
    expect(ev('(1 + 2) * 3')).toBe(9);
    expect(ev('10 - 4 - 3')).toBe(3);
    expect(ev('24 / 4 / 3')).toBe(2);
    expect(ev('-2 * -3')).toBe(6);
    expect(ev('--2')).toBe(2);
    expect(ev('+2 - -2')).toBe(4);
    expect(ev('1.5e2 + .5')).toBe(150.5);
    expect(ev('2 * 3 > 5')).toBe(1);
    expect(ev('1 + 1 == 3')).toBe(0);
    expect(ev('1 != 2')).toBe(1);
    expect(ev('3 <= 3')).toBe(1);
  });

  it('reads names, windowed names and dotted names', () => {
    const ctx = { sharpeRatio: 1.2, 'sharpeRatio@60': 0.7, 'scores.risk': 30 };
    expect(ev('sharpeRatio@60 - sharpeRatio', ctx)).toBeCloseTo(-0.5, 12);
    expect(ev('scores.risk / 100', ctx)).toBeCloseTo(0.3, 12);
    expect(compileExpr('sharpeRatio - sharpeRatio@60 + 1', vars(ctx)).names).toEqual([
      'sharpeRatio',
      'sharpeRatio@60',
    ]);
  });

  it('calls the whitelisted functions', () => {
    expect(ev('abs(-3)')).toBe(3);
    expect(ev('sqrt(16)')).toBe(4);
    expect(ev('log(1)')).toBe(0);
    expect(ev('exp(0)')).toBe(1);
    expect(ev('pow(2, 10)')).toBe(1024);
    expect(ev('min(3, 1, 2)')).toBe(1);
    expect(ev('max(3, 1, 2) * 2')).toBe(6);
    expect(ev('max(min(5, 9), abs(-7))')).toBe(7);
  });

  it('gives null, never Infinity or NaN: division by zero, log and sqrt out of domain, overflow', () => {
    expect(ev('1 / 0')).toBeNull();
    expect(ev('0 / 0')).toBeNull();
    expect(ev('a / b', { a: 1, b: 0 })).toBeNull();
    expect(ev('log(0)')).toBeNull();
    expect(ev('log(-1)')).toBeNull();
    expect(ev('sqrt(-1)')).toBeNull();
    expect(ev('exp(1000)')).toBeNull();
    expect(ev('pow(-8, 0.5)')).toBeNull();
    expect(ev('1e308 * 10')).toBeNull();
  });

  it('propagates an undefined (null) input, and keeps an infinite one until the end', () => {
    expect(ev('a + 1', { a: null })).toBeNull();
    expect(ev('max(a, 1)', { a: null })).toBeNull();
    expect(ev('a > 1', { a: null })).toBeNull();
    expect(ev('-a', { a: null })).toBeNull();
    // A Sortino ratio with no downside is Infinity (empyrical): clamped, it is a number.
    expect(ev('min(a, 10)', { a: Infinity })).toBe(10);
    expect(ev('a > 3', { a: Infinity })).toBe(1);
    expect(ev('a', { a: Infinity })).toBeNull();
    expect(ev('a - a', { a: Infinity })).toBeNull();
  });

  it('names the position and the problem of a bad expression', () => {
    expect(error('sharpRatio * 2', { sharpeRatio: 1 })).toBe('unknown name sharpRatio at column 1');
    expect(error('1 + x', {})).toBe('unknown name x at column 5');
    expect(error('1 +')).toBe('unexpected end of expression at column 4');
    expect(error('(1 + 2')).toBe(
      'expected ) (opened at column 1), found end of expression at column 7',
    );
    expect(error('1 2')).toBe('unexpected number 2 at column 3');
    expect(error('2 ^ 3')).toBe('unexpected character "^" (use pow(x, y)) at column 3');
    expect(error('a = 1', { a: 1 })).toBe('unexpected character "=" (compare with ==) at column 3');
    expect(error('1 < 2 < 3')).toBe('comparisons do not chain: use parentheses at column 7');
    expect(error('foo(1)')).toMatch(
      /^unknown function foo \(functions: abs, sqrt, .*\) at column 1$/,
    );
    expect(error('min(1)')).toBe('min takes 2 to 16 arguments, not 1 at column 1');
    expect(error('abs(1, 2)')).toBe('abs takes 1 argument, not 2 at column 1');
    expect(error('sqrt + 1')).toBe('sqrt is a function: call it as sqrt(...) at column 1');
    expect(error('x@')).toBe('a window name (letters, digits, _) must follow @ at column 3');
    expect(error('2x')).toBe('a number runs into a name (2x...) at column 2');
    expect(error('')).toBe('unexpected end of expression at column 1');
    expect(error(')')).toBe('unexpected ")" at column 1');
  });

  it('refuses what could be used to run code or exhaust the parser', () => {
    // No property access, strings, brackets, assignment or statements exist in the grammar.
    for (const src of [
      'constructor.constructor("x")()',
      'this',
      'a["b"]',
      'a; b',
      '`x`',
      'process.exit(1)',
      'globalThis',
      '__proto__',
    ]) {
      expect(() => compileExpr(src, vars({}))).toThrow(ExprError);
    }
    expect(error('('.repeat(100) + '1' + ')'.repeat(100))).toMatch(/nested deeper than 64 levels/);
    expect(error('-'.repeat(100) + '1')).toMatch(/nested deeper than 64 levels/);
    expect(error('1+'.repeat(600) + '1')).toMatch(/longer than 1000 characters/);
  });

  it('tokenizes and parses into a plain tree', () => {
    expect(tokenize('a@60 >= 1').map((t) => t.kind)).toEqual(['name', 'op', 'number', 'end']);
    expect(parse('1 - a * 2')).toEqual({
      t: 'bin',
      op: '-',
      pos: 2,
      left: { t: 'num', value: 1 },
      right: {
        t: 'bin',
        op: '*',
        pos: 6,
        left: { t: 'ref', name: 'a', window: undefined, pos: 4 },
        right: { t: 'num', value: 2 },
      },
    });
  });
});
