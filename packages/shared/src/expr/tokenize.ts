/**
 * The tokens of derived-metric expressions (README "Derived metrics"):
 * numbers, names (`sharpeRatio`, `scores.risk`, `sharpeRatio@60` for a
 * metric of the extra window named 60), the operators + - * / and the
 * comparisons < <= > >= == !=, parentheses and commas. Anything else is an
 * error naming its position.
 */

export type Token =
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'name'; name: string; window: string | undefined; pos: number; end: number }
  | { kind: 'op'; op: Operator; pos: number }
  | { kind: 'punct'; ch: '(' | ')' | ','; pos: number }
  | { kind: 'end'; pos: number };

export const OPERATORS = ['+', '-', '*', '/', '<', '<=', '>', '>=', '==', '!='] as const;
export type Operator = (typeof OPERATORS)[number];

/** A problem in an expression, at a 0-based character position. */
export class ExprError extends Error {
  constructor(
    readonly reason: string,
    readonly pos: number,
  ) {
    super(`${reason} at column ${pos + 1}`);
    this.name = 'ExprError';
  }
}

/** Expressions longer than this are refused: a derived metric is a formula, not a program. */
export const MAX_EXPR_LENGTH = 1000;

const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
/** A name: letters, digits, _ and inner dots (`scores.risk`), then optionally `@` and a window name. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/;
const WINDOW = /^[A-Za-z0-9_]+/;

export function tokenize(src: string): Token[] {
  if (src.length > MAX_EXPR_LENGTH) {
    throw new ExprError(`longer than ${MAX_EXPR_LENGTH} characters`, MAX_EXPR_LENGTH);
  }
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const rest = src.slice(i);
    const num = NUMBER.exec(rest);
    if (num) {
      const value = Number(num[0]);
      if (!Number.isFinite(value)) throw new ExprError(`number ${num[0]} is out of range`, i);
      out.push({ kind: 'number', value, pos: i });
      i += num[0].length;
      if (/^[A-Za-z_]/.test(src.slice(i))) {
        throw new ExprError(`a number runs into a name (${num[0]}${src[i]}...)`, i);
      }
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      const pos = i;
      i += name[0].length;
      let window: string | undefined;
      if (src[i] === '@') {
        const w = WINDOW.exec(src.slice(i + 1));
        if (!w) throw new ExprError(`a window name (letters, digits, _) must follow @`, i + 1);
        window = w[0];
        i += 1 + w[0].length;
      }
      out.push({ kind: 'name', name: name[0], window, pos, end: i });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '==' || two === '!=') {
      out.push({ kind: 'op', op: two, pos: i });
      i += 2;
      continue;
    }
    if (c === '+' || c === '-' || c === '*' || c === '/' || c === '<' || c === '>') {
      out.push({ kind: 'op', op: c, pos: i });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      out.push({ kind: 'punct', ch: c, pos: i });
      i++;
      continue;
    }
    const hint =
      c === '=' ? ' (compare with ==)' : c === '^' ? ' (use pow(x, y))' : c === '%' ? '' : '';
    throw new ExprError(`unexpected character ${JSON.stringify(c)}${hint}`, i);
  }
  out.push({ kind: 'end', pos: src.length });
  return out;
}
