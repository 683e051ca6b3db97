/**
 * One incident (GET /api/incidents/{id}): what fired, its timeline with who
 * and when, and its emergency job in BullMQ, so an operator sees whether
 * the trading stack acted. Acknowledge and silence only for roles that may.
 */
import type { AlertEvent, SilenceMatcher } from '@quantmon/shared';
import type { EmergencyJobView } from '../src/emergency-queue.js';
import type { Me } from './api.js';
import { el } from './format.js';

interface Step {
  kind: string;
  at: number;
  by: string;
  detail?: string;
}
// The server's job view (type-only: nothing of the server is bundled).
type Job = EmergencyJobView;
export interface IncidentDetail {
  incidentId: string;
  open: boolean;
  latest?: AlertEvent;
  action: string | null;
  events: AlertEvent[];
  timeline: Step[];
  job: Job | null;
  jobError?: string;
}

export interface IncidentActions {
  acknowledge: (id: string) => Promise<string | null>;
  /** Opens the silence form with these matchers. */
  silence: (matchers: SilenceMatcher[]) => void;
  refresh: () => void;
}

const at = (ms: number | undefined): string =>
  ms === undefined ? '–' : new Date(ms).toLocaleString();

const JOB_WORDS: Record<string, string> = {
  waiting: 'waiting for a worker',
  delayed: 'waiting to retry (backoff)',
  prioritized: 'waiting for a worker',
  active: 'taken by a worker, running',
  completed: 'completed: the trading stack acted',
  failed: 'failed',
  unknown: 'gone from the queue',
};

export function renderIncident(
  root: HTMLElement,
  d: IncidentDetail,
  me: Me,
  actions: IncidentActions,
): void {
  const a = d.latest;
  const head = el(
    'div',
    { className: `incident-head ${a?.level ?? ''}` },
    el('h3', {
      textContent: a ? `${a.rule} on ${a.subject}` : d.incidentId,
    }),
    el('p', {
      className: 'msg',
      textContent: a ? `${a.level} · ${d.open ? 'open' : 'resolved'} · ${a.message}` : '',
    }),
    ...(a
      ? [el('p', { className: 'rec', textContent: `Recommendation: ${a.recommendation}` })]
      : []),
  );
  head.dataset['state'] = d.open ? 'open' : 'resolved';
  const buttons = el('div', { className: 'incident-actions' });
  if (d.open && me.can.acknowledge) {
    const ack = el('button', {
      className: 'ack',
      textContent: a?.acknowledged ? 'Acknowledge again' : 'Acknowledge',
    });
    const err = el('span', { className: 'ack-error' });
    ack.onclick = async () => {
      ack.disabled = true;
      const e = await actions.acknowledge(d.incidentId);
      err.textContent = e ?? '';
      if (e)
        ack.disabled = false; // to try again: the view is not re-rendered while unchanged
      else ack.textContent = 'Acknowledged';
      setTimeout(actions.refresh, 500);
    };
    buttons.append(ack, err);
  }
  if (a && me.can.silence) {
    const s = el('button', { className: 'silence-this', textContent: 'Silence…' });
    s.onclick = () =>
      actions.silence([
        { name: 'rule', op: '=', value: a.rule },
        { name: 'subject', op: '=', value: a.subject },
      ]);
    buttons.append(s);
  }
  const timeline = el(
    'ol',
    { className: 'timeline', id: 'incident-timeline' },
    ...d.timeline.map((s) => {
      const li = el(
        'li',
        { className: s.kind },
        el('span', { className: 'badge', textContent: s.kind }),
        ` ${at(s.at)} · ${s.by}${s.detail ? ` · ${s.detail}` : ''}`,
      );
      li.dataset['kind'] = s.kind;
      return li;
    }),
  );
  root.replaceChildren(
    head,
    buttons,
    el('h3', { textContent: 'Timeline' }),
    timeline,
    el('h3', { textContent: 'Emergency job' }),
    jobBox(d),
  );
}

function jobBox(d: IncidentDetail): HTMLElement {
  const box = el('div', { className: 'job', id: 'incident-job' });
  if (d.jobError) {
    box.append(el('p', { className: 'ack-error', textContent: d.jobError }));
    return box;
  }
  const j = d.job;
  if (!j) {
    box.dataset['state'] = 'none';
    box.append(
      el('p', {
        textContent: d.action
          ? `No job in the queue for ${d.action} (not queued yet, silenced, or removed after completion).`
          : 'This rule queues no emergency job.',
      }),
    );
    return box;
  }
  box.dataset['state'] = j.state;
  box.className = `job ${j.state}`;
  const rows: [string, string][] = [
    ['Job', `${j.name} (${j.id})`],
    ['State', JOB_WORDS[j.state] ?? j.state],
    ['Attempts', `${j.attemptsMade} of ${j.attempts}`],
    ['Queued', at(j.enqueuedAt)],
    ['Taken', at(j.processedOn)],
    ['Finished', at(j.finishedOn)],
  ];
  if (j.resolvedAt !== undefined) rows.push(['Incident resolved before pickup', at(j.resolvedAt)]);
  if (j.failedReason) rows.push(['Worker error', j.failedReason]);
  if (j.returnValue !== undefined) rows.push(['Worker result', JSON.stringify(j.returnValue)]);
  box.append(
    el(
      'table',
      { className: 'metrics' },
      el(
        'tbody',
        {},
        ...rows.map(([k, v]) =>
          el('tr', {}, el('td', { textContent: k }), el('td', { textContent: v })),
        ),
      ),
    ),
  );
  if (j.stacktrace?.length) {
    box.append(
      el(
        'details',
        {},
        el('summary', { textContent: `Stack traces (${j.stacktrace.length})` }),
        el('pre', { textContent: j.stacktrace.join('\n\n') }),
      ),
    );
  }
  return box;
}
