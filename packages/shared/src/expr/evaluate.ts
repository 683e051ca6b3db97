import { parse, type Expr } from './parse.js';
import { ExprError } from './tokenize.js';

/**
 * Compiling a parsed expression into a plain function of a context: every
 * name is resolved once, at compile time (an unknown one is an error naming
 * it and its position), and evaluation is a tree of closures. No eval, no
 * Function, no property access by name at run time.
 *
 * Values are numbers or null. null is "undefined here" (a metric with too
 * few observations, a window the strategy does not have) and propagates
 * through every operation; so do NaN and, at the end, the infinities: a
 * division by zero, log(0), sqrt(-1) give null, never Infinity or NaN.
 * Intermediate infinities are kept (a metric empyrical gives as Infinity,
 * such as a Sortino ratio with no downside, still compares and clamps:
 * min(sortinoRatio, 10) is 10). Comparisons give 1 or 0.
 */

export type Value = number | null;
export type Evaluator<C> = (ctx: C) => Value;

/**
 * How names are read: a getter for a known name (and window, `name@w`), or
 * a string saying why the name is refused.
 */
export type NameResolver<C> = (
  name: string,
  window: string | undefined,
) => ((ctx: C) => Value) | string;

export interface CompiledExpr<C> {
  readonly source: string;
  /** Every name the expression reads, as written (`sharpeRatio@60`). */
  readonly names: readonly string[];
  evaluate(ctx: C): Value;
}

/** Parse and compile; throws ExprError naming the position of the first problem. */
export function compileExpr<C>(source: string, resolve: NameResolver<C>): CompiledExpr<C> {
  const names = new Set<string>();
  const ev = build(parse(source), resolve, names);
  return {
    source,
    names: [...names],
    evaluate: (ctx) => {
      const v = ev(ctx);
      return v !== null && Number.isFinite(v) ? v : null;
    },
  };
}

const num = (v: number): Value => (Number.isNaN(v) ? null : v);

function build<C>(e: Expr, resolve: NameResolver<C>, names: Set<string>): Evaluator<C> {
  switch (e.t) {
    case 'num': {
      const v = e.value;
      return () => v;
    }
    case 'ref': {
      const got = resolve(e.name, e.window);
      if (typeof got === 'string') throw new ExprError(got, e.pos);
      names.add(e.window === undefined ? e.name : `${e.name}@${e.window}`);
      return got;
    }
    case 'neg': {
      const a = build(e.arg, resolve, names);
      return (c) => {
        const x = a(c);
        return x === null ? null : -x;
      };
    }
    case 'bin': {
      const l = build(e.left, resolve, names);
      const r = build(e.right, resolve, names);
      const op = binary[e.op];
      return (c) => {
        const x = l(c);
        if (x === null) return null;
        const y = r(c);
        return y === null ? null : op(x, y);
      };
    }
    case 'call': {
      const args = e.args.map((a) => build(a, resolve, names));
      const fn = functions[e.fn];
      // The common shapes without an argument array per call (the scorer runs these per update).
      const [a0, a1] = args;
      if (args.length === 1 && a0) {
        const one = unary[e.fn];
        if (one) {
          return (c) => {
            const x = a0(c);
            return x === null ? null : one(x);
          };
        }
      }
      if (args.length === 2 && a0 && a1) {
        const two = pair[e.fn];
        if (two) {
          return (c) => {
            const x = a0(c);
            if (x === null) return null;
            const y = a1(c);
            return y === null ? null : two(x, y);
          };
        }
      }
      return (c) => {
        const xs: number[] = [];
        for (const a of args) {
          const x = a(c);
          if (x === null) return null;
          xs.push(x);
        }
        return fn(xs);
      };
    }
  }
}

const binary: Record<Extract<Expr, { t: 'bin' }>['op'], (x: number, y: number) => Value> = {
  '+': (x, y) => num(x + y),
  '-': (x, y) => num(x - y),
  '*': (x, y) => num(x * y),
  // Division by zero is undefined, not infinite: a ratio over a flat denominator means nothing.
  '/': (x, y) => (y === 0 ? null : num(x / y)),
  '<': (x, y) => (x < y ? 1 : 0),
  '<=': (x, y) => (x <= y ? 1 : 0),
  '>': (x, y) => (x > y ? 1 : 0),
  '>=': (x, y) => (x >= y ? 1 : 0),
  '==': (x, y) => (x === y ? 1 : 0),
  '!=': (x, y) => (x !== y ? 1 : 0),
};

const unary: Partial<Record<Extract<Expr, { t: 'call' }>['fn'], (x: number) => Value>> = {
  abs: (x) => Math.abs(x),
  sqrt: (x) => (x < 0 ? null : Math.sqrt(x)),
  log: (x) => (x <= 0 ? null : Math.log(x)),
  exp: (x) => Math.exp(x),
};

const pair: Partial<Record<Extract<Expr, { t: 'call' }>['fn'], (x: number, y: number) => Value>> = {
  pow: (x, y) => num(Math.pow(x, y)),
  min: (x, y) => Math.min(x, y),
  max: (x, y) => Math.max(x, y),
};

const functions: Record<Extract<Expr, { t: 'call' }>['fn'], (xs: number[]) => Value> = {
  abs: ([x]) => Math.abs(x!),
  sqrt: ([x]) => (x! < 0 ? null : Math.sqrt(x!)),
  log: ([x]) => (x! <= 0 ? null : Math.log(x!)),
  exp: ([x]) => Math.exp(x!),
  pow: ([x, y]) => num(Math.pow(x!, y!)),
  min: (xs) => Math.min(...xs),
  max: (xs) => Math.max(...xs),
};
