import { ExprError, tokenize, type Operator, type Token } from './tokenize.js';

/**
 * A recursive-descent parser of derived-metric expressions into a small
 * AST. The grammar, loosest first (comparisons do not chain):
 *
 *   expr       := additive ( ('<' | '<=' | '>' | '>=' | '==' | '!=') additive )?
 *   additive   := term ( ('+' | '-') term )*
 *   term       := unary ( ('*' | '/') unary )*
 *   unary      := ('-' | '+') unary | primary
 *   primary    := number | name | function '(' expr (',' expr)* ')' | '(' expr ')'
 *
 * Functions come from a fixed list (FUNCTIONS); nothing else can be called,
 * so an expression can only compute a number from the metrics it names.
 */

export type Expr =
  | { t: 'num'; value: number }
  | { t: 'ref'; name: string; window: string | undefined; pos: number }
  | { t: 'neg'; arg: Expr }
  | { t: 'bin'; op: Operator; left: Expr; right: Expr; pos: number }
  | { t: 'call'; fn: FunctionName; args: Expr[]; pos: number };

/** The callable functions and how many arguments each takes ([min, max]). */
export const FUNCTIONS = {
  abs: [1, 1],
  sqrt: [1, 1],
  log: [1, 1],
  exp: [1, 1],
  pow: [2, 2],
  min: [2, 16],
  max: [2, 16],
} as const satisfies Record<string, readonly [number, number]>;
export type FunctionName = keyof typeof FUNCTIONS;

const isFunction = (s: string): s is FunctionName => Object.hasOwn(FUNCTIONS, s);

/** Nesting deeper than this is refused (and keeps the parser's recursion bounded). */
export const MAX_DEPTH = 64;

const COMPARISONS: ReadonlySet<Operator> = new Set(['<', '<=', '>', '>=', '==', '!=']);

export function parse(src: string): Expr {
  return new Parser(tokenize(src)).parseAll();
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): Expr {
    const e = this.expr();
    const t = this.peek();
    if (t.kind !== 'end') throw new ExprError(`unexpected ${describe(t)}`, t.pos);
    return e;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private isOp(...ops: Operator[]): Operator | undefined {
    const t = this.peek();
    return t.kind === 'op' && ops.includes(t.op) ? t.op : undefined;
  }

  private expr(): Expr {
    if (++this.depth > MAX_DEPTH) {
      throw new ExprError(`nested deeper than ${MAX_DEPTH} levels`, this.peek().pos);
    }
    const left = this.additive();
    let out = left;
    const t = this.peek();
    if (t.kind === 'op' && COMPARISONS.has(t.op)) {
      this.next();
      out = { t: 'bin', op: t.op, left, right: this.additive(), pos: t.pos };
      const again = this.peek();
      if (again.kind === 'op' && COMPARISONS.has(again.op)) {
        throw new ExprError('comparisons do not chain: use parentheses', again.pos);
      }
    }
    this.depth--;
    return out;
  }

  private additive(): Expr {
    let left = this.term();
    for (let op = this.isOp('+', '-'); op; op = this.isOp('+', '-')) {
      const pos = this.next().pos;
      left = { t: 'bin', op, left, right: this.term(), pos };
    }
    return left;
  }

  private term(): Expr {
    let left = this.unary();
    for (let op = this.isOp('*', '/'); op; op = this.isOp('*', '/')) {
      const pos = this.next().pos;
      left = { t: 'bin', op, left, right: this.unary(), pos };
    }
    return left;
  }

  private unary(): Expr {
    const op = this.isOp('-', '+');
    if (!op) return this.primary();
    const pos = this.next().pos;
    if (++this.depth > MAX_DEPTH)
      throw new ExprError(`nested deeper than ${MAX_DEPTH} levels`, pos);
    const arg = this.unary();
    this.depth--;
    return op === '-' ? { t: 'neg', arg } : arg;
  }

  private primary(): Expr {
    const t = this.next();
    if (t.kind === 'number') return { t: 'num', value: t.value };
    if (t.kind === 'punct' && t.ch === '(') {
      const e = this.expr();
      this.expect(')', t.pos);
      return e;
    }
    if (t.kind === 'name') {
      const after = this.peek();
      if (after.kind === 'punct' && after.ch === '(') {
        if (t.window !== undefined || !isFunction(t.name)) {
          throw new ExprError(
            `unknown function ${t.name}${t.window ? `@${t.window}` : ''} (functions: ${Object.keys(FUNCTIONS).join(', ')})`,
            t.pos,
          );
        }
        return this.call(t.name, t.pos);
      }
      if (isFunction(t.name) && t.window === undefined) {
        throw new ExprError(`${t.name} is a function: call it as ${t.name}(...)`, t.pos);
      }
      return { t: 'ref', name: t.name, window: t.window, pos: t.pos };
    }
    throw new ExprError(
      t.kind === 'end' ? 'unexpected end of expression' : `unexpected ${describe(t)}`,
      t.pos,
    );
  }

  private call(fn: FunctionName, pos: number): Expr {
    this.next(); // (
    const args: Expr[] = [];
    if (!(this.peek().kind === 'punct' && (this.peek() as { ch: string }).ch === ')')) {
      args.push(this.expr());
      while (this.peek().kind === 'punct' && (this.peek() as { ch: string }).ch === ',') {
        this.next();
        args.push(this.expr());
      }
    }
    this.expect(')', pos);
    const [min, max] = FUNCTIONS[fn];
    if (args.length < min || args.length > max) {
      const want = min === max ? `${min}` : `${min} to ${max}`;
      throw new ExprError(
        `${fn} takes ${want} argument${max === 1 ? '' : 's'}, not ${args.length}`,
        pos,
      );
    }
    return { t: 'call', fn, args, pos };
  }

  private expect(ch: ')' | ',', openedAt: number): void {
    const t = this.next();
    if (t.kind === 'punct' && t.ch === ch) return;
    const what = t.kind === 'end' ? 'end of expression' : describe(t);
    throw new ExprError(`expected ${ch} (opened at column ${openedAt + 1}), found ${what}`, t.pos);
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'number':
      return `number ${t.value}`;
    case 'name':
      return `name ${t.name}${t.window ? `@${t.window}` : ''}`;
    case 'op':
      return `operator ${t.op}`;
    case 'punct':
      return `${JSON.stringify(t.ch)}`;
    case 'end':
      return 'end of expression';
  }
}
