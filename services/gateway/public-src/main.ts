/**
 * quantmon dashboard: live cards, charts and alerts over the gateway's
 * WebSocket, with history from /api/history on open. Every number shown
 * comes from the pipeline; a value it did not measure is shown as
 * "not measured", never invented.
 */
import type { AlertEvent, ScoreUpdate, ServerFrame, SystemSample } from '@quantmon/shared';
import { acknowledge, alertAudit, history } from './api.js';
import { alertHead, historyLines, mutedItem, splitMuted } from './alerts-view.js';
import type { Chart } from './charts.js';
import {
  addEvent,
  addScorePoint,
  addSystemPoint,
  newestHost,
  RETIRED_RULE,
  scoreSeries,
  state,
} from './dashboard-state.js';
import { byId, el, time } from './format.js';
import { KeyedList, objectSerial } from './keyed-list.js';
import { LiveSocket, type LinkState } from './live-socket.js';
import { renderScoreCards, renderSystemCards } from './cards.js';
import { Desk } from './desk.js';
import { currentRange, rangeHistory, updateRangeLinks } from './range-view.js';
import { strategyCharts } from './strategy-charts.js';
import { catalogueNote, renderMetricTable } from './window-table.js';

const HISTORY_MINUTES = 60;
/** The audit (acks, silence changes) is polled: silence changes publish no alert event. */
const AUDIT_POLL_MS = 3000;

function onFrame(f: ServerFrame): void {
  switch (f.type) {
    case 'snapshot':
      for (const u of f.scores ?? []) {
        state.scores.set(u.strategy, u);
        desk.score(u);
      }
      for (const s of f.system ?? []) state.system.set(s.host, s);
      if (f.alerts) {
        state.active.clear();
        for (const a of f.alerts) state.active.set(a.incidentId, a);
        desk.alerts(state.active.values());
      }
      break;
    case 'reset':
      if (f.topic === 'alerts') {
        state.active.clear();
        desk.alerts(state.active.values());
      }
      break;
    case 'score':
      state.scores.set(f.data.strategy, f.data);
      desk.score(f.data);
      // Chart points only for the strategy on screen: 2,000 strategies' series cost memory for nothing.
      if (f.data.strategy === state.selected || state.scoreSeries.has(f.data.strategy))
        addScorePoint(f.pos, f.data);
      break;
    case 'system':
      state.system.set(f.data.host, f.data);
      addSystemPoint(f.pos, f.data);
      break;
    case 'alert':
      if (f.data.state === 'firing') state.active.set(f.data.incidentId, f.data);
      else state.active.delete(f.data.incidentId);
      desk.alerts(state.active.values());
      addEvent(f.pos, f.part ?? 0, f.data);
      scheduleAudit(300);
      // A retirement (docs/operations.md): the strategy leaves the overview at once.
      if (f.data.rule === RETIRED_RULE && f.data.subject.startsWith('strategy/')) {
        const id = f.data.subject.slice('strategy/'.length);
        state.scores.delete(id);
        desk.retired(id);
      }
      break;
    default:
      return;
  }
  scheduleRender();
}

// ---- rendering (coalesced per animation frame)

let pending = false;
function scheduleRender(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    render();
  });
}

const charts: Chart[] = [];

function render(): void {
  // The strategy view's cards and charts only while it is on screen (the overview paints itself).
  if (desk.view !== 'strategy') return;
  renderPicker();
  const u = state.scores.get(state.selected);
  const { active, muted } = splitMuted(state.active.values());
  renderScoreCards(u, new Map(active.map((a) => [a.incidentId, a])));
  renderMetrics(u);
  renderSystemCards(newestHost());
  renderAlerts(active, muted);
  for (const c of charts) c.redraw();
}

function renderPicker(): void {
  const names = [...state.scores.keys()].sort();
  const select = byId<HTMLSelectElement>('strategy');
  if ([...select.options].map((o) => o.value).join() !== names.join()) {
    select.replaceChildren(...names.map((n) => new Option(n, n)));
  }
  if (!state.scores.has(state.selected) && names[0]) selectStrategy(names[0]);
  select.value = state.selected;
}

function renderMetrics(u: ScoreUpdate | undefined): void {
  byId('score-meta').textContent = u
    ? `${u.strategy} · ${u.count} samples · last sample ${new Date(u.ts).toLocaleString()}${catalogueNote(u)}`
    : 'waiting for the first score';
  if (u) renderMetricTable(byId<HTMLTableElement>('metrics'), u);
}

/** The active alerts, each item kept while it shows the same (so a click on it is never lost). */
let activeList: KeyedList<AlertEvent> | undefined;

function renderAlerts(active: AlertEvent[], muted: AlertEvent[]): void {
  activeList ??= new KeyedList<AlertEvent, Node>(byId('alerts-active'), alertItem, () =>
    el('li', { className: 'empty', textContent: 'No active alerts' }),
  );
  activeList.show(active, (a) => a.incidentId, alertSig);
  byId('muted-group').hidden = muted.length === 0;
  byId('muted-count').textContent = String(muted.length);
  byId('alerts-muted').replaceChildren(...muted.map(mutedItem));
  byId('alerts-history').replaceChildren(...historyLines(state.events, state.audit, 80));
}

/**
 * Everything an active alert's item shows: when it changes, the item is
 * built anew. A frame replaces an alert's event, never changes it in place.
 */
function alertSig(a: AlertEvent): string {
  const acked = state.acked.has(a.incidentId);
  const error = state.ackErrors.get(a.incidentId) ?? '';
  return `${objectSerial(a)}|${acked}|${error}|${desk.me.can.acknowledge}`;
}

function alertItem(a: AlertEvent): HTMLLIElement {
  const li = el('li', { className: `${a.level} firing` });
  li.dataset['incident'] = a.incidentId;
  li.dataset['level'] = a.level;
  const acked = state.acked.has(a.incidentId) || a.acknowledged !== undefined;
  const link = el('a', { className: 'incident-link', textContent: 'details' });
  link.href = `#incident/${encodeURIComponent(a.incidentId)}`;
  const button = el('button', {
    className: 'ack needs-operator',
    textContent: acked ? 'Acknowledged' : 'Acknowledge',
    title: a.acknowledged ? `by ${a.acknowledged.by}` : '',
  });
  button.disabled = acked;
  button.onclick = async () => {
    button.disabled = true;
    const err = await acknowledge(a.incidentId, desk.ackBy());
    if (err) state.ackErrors.set(a.incidentId, err);
    else {
      state.acked.add(a.incidentId);
      state.ackErrors.delete(a.incidentId);
    }
    scheduleAudit(300);
    scheduleRender();
  };
  const error = state.ackErrors.get(a.incidentId);
  li.append(
    alertHead(a, desk.me.can.acknowledge ? button : link),
    el('div', { className: 'msg', textContent: `${a.message} · since ${time(a.startsAt)}` }),
    el('div', { className: 'rec', textContent: `Recommendation: ${a.recommendation}` }),
    ...(desk.me.can.acknowledge ? [link] : []),
    ...(error ? [el('div', { className: 'ack-error', textContent: error })] : []),
  );
  return li;
}

function setStatus(s: LinkState, detail: string): void {
  const e = byId('status');
  e.textContent = detail ? `${s} · ${detail}` : s;
  e.className = `status ${s}`;
  e.dataset['state'] = s;
}

// ---- history on open, then live

async function loadStrategyHistory(id: string): Promise<void> {
  try {
    const points = await history<ScoreUpdate>(`strategy:${id}`, HISTORY_MINUTES, 1000);
    for (const p of points) addScorePoint(p.pos, p.data);
    scheduleRender();
  } catch (err) {
    showNotice('strategy history', (err as Error).message);
  }
}

async function loadHistory(): Promise<void> {
  try {
    const [system, alerts] = await Promise.all([
      history<SystemSample>('system', HISTORY_MINUTES, 1000),
      history<AlertEvent>('alerts', 24 * 60, 200),
    ]);
    for (const p of system) {
      if (!state.system.has(p.data.host)) state.system.set(p.data.host, p.data);
      addSystemPoint(p.pos, p.data);
    }
    for (const p of alerts) addEvent(p.pos, p.part ?? 0, p.data);
    scheduleRender();
  } catch (err) {
    showNotice('history', (err as Error).message);
  }
}

let auditTimer: ReturnType<typeof setTimeout> | undefined;
/** (Re)load the audit after `ms`, then keep polling it. */
function scheduleAudit(ms: number): void {
  clearTimeout(auditTimer);
  auditTimer = setTimeout(() => void loadAudit(), ms);
}

async function loadAudit(): Promise<void> {
  try {
    state.audit = await alertAudit(24 * 60, 200);
    showNotice('audit', null);
    scheduleRender();
  } catch (err) {
    showNotice('audit', (err as Error).message);
  } finally {
    scheduleAudit(AUDIT_POLL_MS);
  }
}

/** What failed, by source: a poll's notice goes once the poll succeeds again; a one-off load's stays. */
const notices = new Map<string, string>();

function showNotice(source: string, text: string | null): void {
  if (text === null) notices.delete(source);
  else notices.set(source, text);
  byId('notice').textContent = [...notices.values()].join(' · ');
}

let rangeLoad = 0;
/** Show the range the controls say: live, or a past range loaded from /api/history. */
async function applyRange(): Promise<void> {
  const now = Date.now();
  const r = currentRange(now);
  updateRangeLinks(state.selected, r, now);
  state.range = r;
  const note = byId('range-note');
  if (!r) {
    note.textContent = '';
    scheduleRender();
    return;
  }
  const mine = ++rangeLoad;
  note.textContent = 'loading…';
  try {
    const [scores, system] = await Promise.all([
      state.selected
        ? rangeHistory<ScoreUpdate>(`strategy:${state.selected}`, r)
        : Promise.resolve([]),
      rangeHistory<SystemSample>('system', r),
    ]);
    if (mine !== rangeLoad) return;
    for (const s of [state.rangeScores, state.rangeRisk, state.rangeSystem]) s.clear();
    for (const p of scores) addScorePoint(p.pos, p.data, [state.rangeScores, state.rangeRisk]);
    for (const p of system) addSystemPoint(p.pos, p.data, state.rangeSystem);
    note.textContent = `${new Date(r.from).toLocaleString()} – ${new Date(r.to).toLocaleString()} · ${scores.length} point${scores.length === 1 ? '' : 's'} (frozen; Live follows new data)`;
  } catch (err) {
    if (mine === rangeLoad) note.textContent = (err as Error).message;
  }
  scheduleRender();
}
for (const id of ['range', 'range-from', 'range-to']) {
  byId(id).addEventListener('change', () => void applyRange());
}

function selectStrategy(id: string): void {
  if (state.selected === id && state.scoreSeries.has(id)) return;
  state.selected = id;
  localStorage.setItem('quantmon-strategy', id);
  void applyRange();
  if (!state.scoreSeries.has(id)) {
    scoreSeries(id);
    void loadStrategyHistory(id);
  }
}

byId<HTMLSelectElement>('strategy').addEventListener('change', (e) => {
  const id = (e.target as HTMLSelectElement).value;
  window.history.replaceState(null, '', `#strategy/${encodeURIComponent(id)}`);
  selectStrategy(id);
  scheduleRender();
});

const desk = new Desk({
  openStrategy: (id) => {
    selectStrategy(id);
    scheduleRender();
  },
  onNotice: showNotice,
  rerender: () => scheduleRender(),
});

charts.push(...strategyCharts());

new LiveSocket({
  topics: ['strategy:*', 'system', 'alerts'],
  onFrame,
  onState: setStatus,
}).start();
if (state.selected) selectStrategy(state.selected);
void loadHistory();
void loadAudit();
void desk.start();
render();
