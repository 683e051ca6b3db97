/**
 * The desk around the strategy view: who the caller is (GET /api/me: the
 * page hides what the role cannot do; the gateway refuses it anyway), the
 * views and their routes (#overview, #strategy/<id>, #pipeline, #incidents,
 * #incident/<id>, #rules), and the views' data: the strategies overview
 * (fed from the same WebSocket frames), the pipeline health panel and the
 * incidents (polled while open), silences.
 */
import type { AlertEvent, ScoreUpdate, Silence, SilenceMatcher } from '@quantmon/shared';
import { acknowledge, api, type Me } from './api.js';
import { byId, el, time } from './format.js';
import { renderIncident, type IncidentDetail } from './incident-view.js';
import { KeyedList, objectSerial } from './keyed-list.js';
import type { StatusFilter } from './overview-model.js';
import { Overview } from './overview-view.js';
import { renderPipeline, type PipelineHealth } from './pipeline-view.js';
import { loadRulesView, wireRulesView } from './rules-view.js';
import { fillSilenceForm, renderSilences, wireSilenceForm } from './silences-view.js';

export type ViewName = 'overview' | 'strategy' | 'pipeline' | 'incidents' | 'rules';

const PIPELINE_POLL_MS = 2000;
const INCIDENT_POLL_MS = 3000;
const NOBODY: Me = {
  name: 'unknown',
  role: 'viewer',
  via: 'unknown',
  can: { acknowledge: false, silence: false, rules: false },
};

export interface DeskOptions {
  /** Open a strategy in the strategy view. */
  openStrategy: (id: string) => void;
  /** A notice for `source`, or null: its trouble is over. */
  onNotice: (source: string, text: string | null) => void;
  /** Re-render the strategy view (its ack buttons follow the role). */
  rerender: () => void;
}

export class Desk {
  me: Me = NOBODY;
  view: ViewName = 'overview';
  private readonly overview: Overview;
  private active: AlertEvent[] = [];
  private incidentId: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Open incidents, each line kept while unchanged (a re-render must not swallow a click on its link). */
  private incidentList: KeyedList<AlertEvent, Node> | undefined;

  constructor(private readonly opts: DeskOptions) {
    this.overview = new Overview(
      byId('ov-table'),
      byId('ov-scroll'),
      (id) => {
        location.hash = `#strategy/${encodeURIComponent(id)}`;
      },
      byId('ov-count'),
    );
    const filter = byId<HTMLInputElement>('ov-filter');
    const status = byId<HTMLSelectElement>('ov-status');
    const group = byId<HTMLSelectElement>('ov-group');
    const apply = (): void =>
      this.overview.setFilter(filter.value, status.value as StatusFilter, group.value);
    filter.addEventListener('input', apply);
    status.addEventListener('change', apply);
    group.addEventListener('change', apply);
    // "Group by" offers the tag keys the strategies carry (desk, manager, asset_class...).
    this.overview.onTagKeys = (keys) => {
      const chosen = group.value;
      group.replaceChildren(
        new Option('No grouping', ''),
        ...keys.map((k) => new Option(`Group by ${k}`, k)),
      );
      group.value = keys.includes(chosen) ? chosen : '';
    };
    const actions = {
      create: async (matchers: SilenceMatcher[], durationMs: number, comment: string) => {
        await api('POST', '/api/silences', {
          matchers,
          durationMs,
          comment,
          createdBy: this.me.name,
        });
        await this.loadSilences();
      },
      expire: async (id: string) => {
        await api('DELETE', `/api/silences/${encodeURIComponent(id)}`);
        await this.loadSilences();
      },
    };
    wireSilenceForm(byId<HTMLFormElement>('silence-form'), actions, (m) => {
      byId('silence-error').textContent = m;
    });
    this.silenceActions = actions;
    wireRulesView();
    window.addEventListener('hashchange', () => this.route());
  }

  private silenceActions;

  async start(): Promise<void> {
    try {
      this.me = await api<Me>('GET', '/api/me');
    } catch (err) {
      this.opts.onNotice('me', `who am I: ${(err as Error).message}`);
    }
    document.body.dataset['role'] = this.me.role;
    byId('whoami').textContent = `${this.me.name} · ${this.me.role}`;
    this.opts.rerender();
    this.route();
  }

  /** Who an acknowledgement says it is from: the caller's name, or "dashboard" when anonymous (as before roles). */
  ackBy(): string {
    return this.me.name === 'anonymous' || this.me.name === 'unknown' ? 'dashboard' : this.me.name;
  }

  score(u: ScoreUpdate): void {
    this.overview.update(u);
  }

  /** A strategy retired through DELETE /api/strategies/{id}. */
  retired(strategy: string): void {
    this.overview.remove(strategy);
  }

  alerts(active: Iterable<AlertEvent>): void {
    this.active = [...active];
    this.overview.setAlerts(this.active);
    byId('nav-incidents').textContent = this.active.length ? String(this.active.length) : '';
    if (this.view === 'incidents') this.renderIncidentList();
  }

  /** The hash decides the view: a shared link opens the same thing. */
  route(): void {
    const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
    const [name = '', ...rest] = hash.split('/');
    const arg = rest.join('/');
    const view: ViewName =
      name === 'strategy' || name === 'pipeline' || name === 'incidents' || name === 'rules'
        ? name
        : name === 'incident'
          ? 'incidents'
          : 'overview';
    this.view = view;
    this.incidentId = name === 'incident' && arg ? arg : undefined;
    document.body.dataset['view'] = view;
    for (const v of ['overview', 'strategy', 'pipeline', 'incidents', 'rules'] as const) {
      byId(`view-${v}`).hidden = v !== view;
    }
    for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
      a.classList.toggle('current', a.dataset['view'] === view);
    }
    this.overview.setVisible(view === 'overview');
    if (view === 'strategy' && arg) this.opts.openStrategy(arg);
    clearTimeout(this.timer);
    if (view === 'pipeline') void this.pollPipeline();
    if (view === 'incidents') void this.pollIncidents();
    if (view === 'rules')
      void loadRulesView().then(
        () => this.opts.onNotice('rules', null),
        (e: Error) => this.opts.onNotice('rules', e.message),
      );
    this.opts.rerender();
  }

  private async pollPipeline(): Promise<void> {
    try {
      const h = await api<PipelineHealth>('GET', '/api/pipeline');
      renderPipeline(byId('pipeline'), h);
      const down = h.services.some((s) => s.status === 'down');
      byId('nav-pipeline').className = `dot ${down ? 'bad' : 'ok'}`;
    } catch (err) {
      byId('pipeline').replaceChildren(
        el('p', { className: 'ack-error', textContent: (err as Error).message }),
      );
    }
    if (this.view === 'pipeline') {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.pollPipeline(), PIPELINE_POLL_MS);
    }
  }

  private async pollIncidents(): Promise<void> {
    this.renderIncidentList();
    await Promise.all([this.loadIncident(), this.loadSilences()]);
    if (this.view === 'incidents') {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.pollIncidents(), INCIDENT_POLL_MS);
    }
  }

  private async loadIncident(): Promise<void> {
    const box = byId('incident-detail');
    const id = this.incidentId;
    if (!id) {
      delete box.dataset['sig'];
      box.replaceChildren();
      return;
    }
    try {
      const d = await api<IncidentDetail>('GET', `/api/incidents/${encodeURIComponent(id)}`);
      if (this.incidentId !== id) return;
      // Unchanged since the last poll: leave the nodes be, so a click under way is not lost.
      const sig = `${JSON.stringify(d)}|${JSON.stringify(this.me.can)}`;
      if (box.dataset['sig'] === sig) return;
      box.dataset['sig'] = sig;
      renderIncident(box, d, this.me, {
        acknowledge: (incident) => acknowledge(incident, this.ackBy()),
        silence: (ms) => fillSilenceForm(byId<HTMLFormElement>('silence-form'), ms),
        refresh: () => void this.loadIncident(),
      });
    } catch (err) {
      delete box.dataset['sig'];
      box.replaceChildren(el('p', { className: 'ack-error', textContent: (err as Error).message }));
    }
  }

  private async loadSilences(): Promise<void> {
    try {
      const r = await api<{ silences: (Silence & { status: string })[] }>('GET', '/api/silences');
      renderSilences(byId('silence-list'), r.silences, this.me, this.silenceActions, (m) => {
        byId('silence-error').textContent = m;
      });
    } catch (err) {
      byId('silence-error').textContent = (err as Error).message;
    }
  }

  private renderIncidentList(): void {
    const list = [...this.active].sort(
      (a, b) =>
        ['critical', 'warning', 'info'].indexOf(a.level) -
          ['critical', 'warning', 'info'].indexOf(b.level) || b.startsAt - a.startsAt,
    );
    this.incidentList ??= new KeyedList<AlertEvent, Node>(byId('incident-list'), incidentLine, () =>
      el('li', { className: 'empty', textContent: 'No open incidents' }),
    );
    // A frame replaces an incident's event, never changes it in place.
    this.incidentList.show(
      list,
      (a) => a.incidentId,
      (a) => String(objectSerial(a)),
    );
  }
}

/** One open incident in the list: its link, and who acknowledged, silenced or muted it. */
function incidentLine(a: AlertEvent): HTMLLIElement {
  const link = el('a', { textContent: `${a.rule} on ${a.subject}` });
  link.href = `#incident/${encodeURIComponent(a.incidentId)}`;
  const li = el(
    'li',
    { className: `${a.level} firing` },
    el('span', { className: 'badge', textContent: a.level }),
    ' ',
    link,
    ` · since ${time(a.startsAt)}${a.acknowledged ? ` · acknowledged by ${a.acknowledged.by}` : ''}${a.silenced ? ' · silenced' : ''}${a.inhibitedBy ? ` · muted by ${a.inhibitedBy.rule}` : ''}`,
  );
  li.dataset['incident'] = a.incidentId;
  return li;
}
