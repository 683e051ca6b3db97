/**
 * The alerts panel: active incidents, muted ones (silenced or inhibited)
 * apart from them, and one history in time order of alert events,
 * acknowledgements and silence changes (with who made them).
 */
import type { Acknowledgement, AlertEvent, AuditEvent } from '@quantmon/shared';
import { el, time } from './format.js';

const LEVEL_RANK = { critical: 0, warning: 1, info: 2 } as const;

/** The inhibiting incident, read defensively: the field is additive and may not exist yet. */
function inhibitedBy(a: AlertEvent): { incidentId: string; rule: string } | undefined {
  const v = (a as { inhibitedBy?: unknown }).inhibitedBy;
  if (typeof v !== 'object' || v === null) return undefined;
  const { incidentId, rule } = v as { incidentId?: unknown; rule?: unknown };
  return typeof incidentId === 'string' && typeof rule === 'string'
    ? { incidentId, rule }
    : undefined;
}

/** Why an open incident sends nothing, or undefined when it is active. */
export function mutedReason(a: AlertEvent): string | undefined {
  if (a.silenced) return `silenced by ${a.silenced.id} until ${when(a.silenced.endsAt)}`;
  const inh = inhibitedBy(a);
  return inh ? `inhibited by ${inh.rule} (${inh.incidentId})` : undefined;
}

/** Open incidents split into active (counted, notifying) and muted ones. */
export function splitMuted(open: Iterable<AlertEvent>): {
  active: AlertEvent[];
  muted: AlertEvent[];
} {
  const sorted = [...open].sort(
    (a, b) => LEVEL_RANK[a.level] - LEVEL_RANK[b.level] || b.startsAt - a.startsAt,
  );
  return {
    active: sorted.filter((a) => mutedReason(a) === undefined),
    muted: sorted.filter((a) => mutedReason(a) !== undefined),
  };
}

function when(ms: number): string {
  const d = new Date(ms);
  return d.toDateString() === new Date().toDateString() ? time(ms) : d.toLocaleString();
}

export function flappingBadge(a: AlertEvent): HTMLElement[] {
  return a.flapping
    ? [
        el('span', {
          className: 'badge flapping',
          textContent: 'flapping',
          title: 'state keeps changing: repeats held back',
        }),
      ]
    : [];
}

/** A muted incident: greyed, saying what mutes it and until when. */
/** An alert card's head line: level badge, rule, subject, flapping badge, then `extra`. */
export function alertHead(a: AlertEvent, ...extra: HTMLElement[]): HTMLElement {
  return el(
    'div',
    { className: 'head' },
    el('span', { className: 'badge', textContent: a.level }),
    el('strong', { textContent: a.rule }),
    el('span', { className: 'subject', textContent: a.subject }),
    ...flappingBadge(a),
    ...extra,
  );
}

export function mutedItem(a: AlertEvent): HTMLLIElement {
  const li = el('li', { className: `${a.level} muted` });
  li.dataset['incident'] = a.incidentId;
  li.dataset['level'] = a.level;
  li.append(
    alertHead(a),
    el('div', { className: 'why', textContent: mutedReason(a) ?? '' }),
    el('div', { className: 'msg', textContent: `${a.message} · since ${time(a.startsAt)}` }),
  );
  return li;
}

type Line = { at: number; key: string; node: HTMLLIElement };

function ackWho(k: Acknowledgement): string {
  const token = k.tokenName && k.tokenName !== k.by ? ` (token ${k.tokenName})` : '';
  return `${k.by}${token}${k.comment ? `: “${k.comment}”` : ''}`;
}

function ackLine(incidentId: string, about: string, k: Acknowledgement): Line {
  const li = el(
    'li',
    { className: 'audit ack-line' },
    el('span', { className: 'badge', textContent: 'acknowledged' }),
    ` ${when(k.at)} · ${about} acknowledged by ${ackWho(k)}`,
  );
  return { at: k.at, key: `ack|${incidentId}|${k.at}|${k.by}`, node: li };
}

function silenceLine(e: Extract<AuditEvent, { silence: unknown }>): Line {
  const s = e.silence;
  const what = s.matchers.map((m) => `${m.name}${m.op}${m.value}`).join(', ');
  const verb =
    e.kind === 'silence-created'
      ? `created by ${e.by}${s.createdBy !== e.by ? ` (for ${s.createdBy})` : ''} until ${when(s.endsAt)}`
      : e.kind === 'silence-deleted'
        ? `expired early by ${e.by}`
        : 'expired';
  const li = el(
    'li',
    { className: `audit ${e.kind}` },
    el('span', {
      className: 'badge',
      textContent: e.kind === 'silence-created' ? 'silenced' : 'unsilenced',
    }),
    ` ${when(e.at)} · silence ${s.id} (${what}${s.comment ? `, “${s.comment}”` : ''}) ${verb}`,
  );
  return { at: e.at, key: `${e.kind}|${s.id}|${e.at}`, node: li };
}

function rulesLine(e: Extract<AuditEvent, { kind: 'rules-changed' | 'catalogue-changed' }>): Line {
  const rules = e.kind === 'rules-changed';
  const what = e.removed
    ? rules
      ? 'removed the rules set through the API (back to the rules file)'
      : 'removed the catalogue set through the API (back to STRATEGIES_FILE)'
    : `set ${rules ? 'rules' : 'catalogue'} version ${e.version}`;
  const li = el(
    'li',
    { className: `audit ${e.kind}` },
    el('span', { className: 'badge', textContent: rules ? 'rules' : 'catalogue' }),
    ` ${when(e.at)} · ${e.by} ${what}${e.changes.length ? `: ${e.changes.join(', ')}` : ''}${e.comment ? ` (“${e.comment}”)` : ''}`,
  );
  return { at: e.at, key: `${e.kind}|${e.version}|${e.at}`, node: li };
}

function retiredLine(e: Extract<AuditEvent, { kind: 'strategy-retired' }>): Line {
  const li = el(
    'li',
    { className: 'audit strategy-retired' },
    el('span', { className: 'badge', textContent: 'retired' }),
    ` ${when(e.at)} · ${e.by} retired strategy ${e.strategy}`,
  );
  return { at: e.at, key: `retired|${e.strategy}|${e.at}`, node: li };
}

function eventLine(a: AlertEvent, pos: string): Line {
  const muted = mutedReason(a);
  const li = el(
    'li',
    { className: `${a.level} ${a.state}${muted ? ' muted' : ''}` },
    el('span', { className: 'badge', textContent: `${a.level} ${a.state}` }),
    ...flappingBadge(a),
    ` ${when(a.ts)} · ${a.message}${muted ? ` · ${muted}` : ''}`,
  );
  return { at: a.ts, key: `event|${pos}`, node: li };
}

/**
 * Alert events and audit entries, newest first. An acknowledgement is
 * re-published as a firing event carrying every acknowledgement: each is
 * one line (with its token name), shown once whichever source has it.
 */
export function historyLines(
  events: readonly { pos: string; a: AlertEvent }[],
  audit: readonly AuditEvent[],
  max: number,
): HTMLLIElement[] {
  const lines = new Map<string, Line>();
  const about = new Map<string, string>();
  for (const { a } of events) about.set(a.incidentId, `${a.rule} on ${a.subject}`);
  for (const { pos, a } of events) {
    const acks = a.acknowledgements ?? (a.acknowledged ? [a.acknowledged] : []);
    if (a.state === 'firing' && a.acknowledged !== undefined) {
      for (const k of acks) {
        const l = ackLine(a.incidentId, `${a.rule} on ${a.subject}`, k);
        lines.set(l.key, l);
      }
    } else {
      const l = eventLine(a, pos);
      lines.set(l.key, l);
    }
  }
  for (const e of audit) {
    const l =
      e.kind === 'acknowledged'
        ? ackLine(
            e.incidentId,
            about.get(e.incidentId) ?? e.incidentId,
            e.ack.tokenName ? e.ack : { ...e.ack, tokenName: e.by },
          )
        : e.kind === 'rules-changed' || e.kind === 'catalogue-changed'
          ? rulesLine(e)
          : e.kind === 'strategy-retired'
            ? retiredLine(e)
            : silenceLine(e);
    if (!lines.has(l.key)) lines.set(l.key, l);
  }
  return [...lines.values()]
    .sort((x, y) => y.at - x.at)
    .slice(0, max)
    .map((l) => l.node);
}
