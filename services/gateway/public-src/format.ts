import type { MetricValue } from '@quantmon/shared';

/** A metric for display: numbers with `digits`, null as a dash, infinities as symbols. */
export function fmt(v: MetricValue | undefined, digits = 2): string {
  if (v === null || v === undefined) return '–';
  if (v === 'Infinity') return '∞';
  if (v === '-Infinity') return '−∞';
  return v.toFixed(digits);
}

export function pct(v: MetricValue | undefined, digits = 2): string {
  if (typeof v !== 'number') return fmt(v);
  return `${(v * 100).toFixed(digits)} %`;
}

/** A chartable number (null breaks the line). */
export function num(v: MetricValue | undefined): number | null {
  return typeof v === 'number' ? v : null;
}

export function time(ms: number): string {
  return new Date(ms).toLocaleTimeString();
}

/** The millisecond part of a stream id. */
export function posMs(pos: string): number {
  return Number(pos.slice(0, pos.indexOf('-')));
}

/** Stream ids compared numerically. */
export function posAfter(a: string, b: string | undefined): boolean {
  if (b === undefined) return true;
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am > bm || (am === bm && as > bs);
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<'className' | 'textContent' | 'id' | 'title', string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}
