/**
 * Silences: the list (GET /api/silences) with Expire for active ones, and a
 * form that creates one (matchers, duration, comment). Shown to every role;
 * the form and the Expire buttons only to roles that may silence.
 */
import type { Silence, SilenceMatcher } from '@quantmon/shared';
import type { Me } from './api.js';
import { el } from './format.js';
import { KeyedList } from './keyed-list.js';

type Listed = Silence & { status: string };

const OPS = ['=~', '!~', '!=', '='] as const;

/**
 * `rule=var_exceeded, subject=~strategy/demo-.*` into matchers; an
 * Error naming the bad part otherwise (the gateway validates again).
 */
export function parseMatchers(text: string): SilenceMatcher[] {
  const out: SilenceMatcher[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const op = OPS.find((o) => part.includes(o));
    if (!op)
      throw new Error(`"${part}": write name=value, name!=value, name=~regex or name!~regex`);
    const i = part.indexOf(op);
    const name = part.slice(0, i).trim();
    const value = part.slice(i + op.length).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name))
      throw new Error(`"${name}" is not a label name`);
    out.push({ name, op, value });
  }
  if (out.length === 0) throw new Error('give at least one matcher, such as rule=var_exceeded');
  return out;
}

export function matchersText(ms: readonly SilenceMatcher[]): string {
  return ms.map((m) => `${m.name}${m.op}${m.value}`).join(', ');
}

export interface SilenceActions {
  create: (matchers: SilenceMatcher[], durationMs: number, comment: string) => Promise<void>;
  expire: (id: string) => Promise<void>;
}

export function renderSilences(
  list: HTMLElement,
  silences: readonly Listed[],
  me: Me,
  actions: SilenceActions,
  onError: (message: string) => void,
): void {
  const shown = silences.filter(
    (s) => s.status !== 'expired' || Date.now() - s.endsAt < 86_400_000,
  );
  let kept = lists.get(list);
  if (!kept) {
    kept = new KeyedList<Listed, Node>(
      list,
      (s) => silenceItem(s, me, actions, onError),
      () => el('li', { className: 'empty', textContent: 'No silences in the last day' }),
    );
    lists.set(list, kept);
  }
  kept.show(
    shown,
    (s) => s.id,
    (s) => `${JSON.stringify(s)}|${me.can.silence}`,
  );
}

/** Each silence list's items, kept while unchanged (a poll must not swallow a click on Expire). */
const lists = new WeakMap<HTMLElement, KeyedList<Listed>>();

function silenceItem(
  s: Listed,
  me: Me,
  actions: SilenceActions,
  onError: (message: string) => void,
): HTMLLIElement {
  const li = el(
    'li',
    { className: `silence ${s.status}` },
    el('span', { className: 'badge', textContent: s.status }),
    ` ${matchersText(s.matchers)} · until ${new Date(s.endsAt).toLocaleString()} · by ${s.createdBy}${s.comment ? ` · “${s.comment}”` : ''} `,
  );
  li.dataset['silence'] = s.id;
  li.dataset['status'] = s.status;
  if (s.status !== 'expired' && me.can.silence) {
    const b = el('button', { className: 'expire', textContent: 'Expire' });
    b.onclick = async () => {
      b.disabled = true;
      try {
        await actions.expire(s.id);
      } catch (err) {
        onError((err as Error).message);
        b.disabled = false;
      }
    };
    li.append(b);
  }
  return li;
}

/** Wire the create form (once). */
export function wireSilenceForm(
  form: HTMLFormElement,
  actions: SilenceActions,
  onError: (m: string) => void,
): void {
  form.onsubmit = async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    try {
      const matchers = parseMatchers(String(data.get('matchers') ?? ''));
      const minutes = Number(data.get('minutes'));
      if (!Number.isFinite(minutes) || minutes <= 0) throw new Error('duration: minutes above 0');
      await actions.create(
        matchers,
        Math.round(minutes * 60_000),
        String(data.get('comment') ?? ''),
      );
      form.reset();
      onError('');
    } catch (err) {
      onError((err as Error).message);
    }
  };
}

export function fillSilenceForm(form: HTMLFormElement, matchers: readonly SilenceMatcher[]): void {
  const input = form.elements.namedItem('matchers') as HTMLInputElement | null;
  if (input) input.value = matchersText(matchers);
  form.scrollIntoView({ block: 'nearest' });
  (form.elements.namedItem('comment') as HTMLInputElement | null)?.focus();
}
