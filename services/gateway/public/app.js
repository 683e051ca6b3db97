// quantmon dashboard (first version): live cards over the gateway's WebSocket.
// Every number shown comes from a frame; a value the pipeline did not measure
// is shown as "not measured", never invented.
const $ = (id) => document.getElementById(id);
const state = {
  scores: new Map(),
  system: new Map(),
  alerts: new Map(),
  recent: [],
  selected: localStorage.getItem('strategy') ?? '',
};

const fmt = (v, digits = 2) =>
  v === null || v === undefined
    ? '–'
    : typeof v === 'string'
      ? v === 'Infinity'
        ? '∞'
        : '−∞'
      : v.toFixed(digits);
const pct = (v) =>
  v === null || v === undefined || typeof v === 'string' ? fmt(v) : `${(v * 100).toFixed(2)} %`;

function setCard(id, value, word, cls) {
  const card = $(id);
  card.className = `card ${cls}`;
  card.querySelector('.value').textContent = value;
  card.querySelector('.word').textContent = word;
}

function renderScores() {
  const names = [...state.scores.keys()].sort();
  const select = $('strategy');
  if (select.options.length !== names.length) {
    select.replaceChildren(...names.map((n) => new Option(n, n)));
  }
  if (!state.selected || !state.scores.has(state.selected)) state.selected = names[0] ?? '';
  select.value = state.selected;
  const u = state.scores.get(state.selected);
  if (!u) return;
  const s = u.scores;
  setCard(
    'card-performance',
    s.performance.toFixed(1),
    u.status.performance,
    s.performance > 70 ? 'ok' : s.performance >= 50 ? 'warn' : 'bad',
  );
  setCard(
    'card-risk',
    s.risk.toFixed(1),
    u.status.risk,
    s.risk < 30 ? 'ok' : s.risk <= 50 ? 'warn' : 'bad',
  );
  setCard(
    'card-stability',
    s.stability.toFixed(1),
    u.status.stability,
    s.stability > 80 ? 'ok' : 'warn',
  );
  $('score-meta').textContent =
    `${u.strategy} · ${u.count} samples · last ${new Date(u.ts).toLocaleTimeString()}`;
  const m = u.metrics;
  const rows = [
    ['Sharpe', fmt(m.sharpeRatio)],
    ['Sortino', fmt(m.sortinoRatio)],
    ['Annual volatility', pct(m.annualVolatility)],
    ['Max drawdown', pct(m.maxDrawdown)],
    ['Current drawdown', pct(m.currentDrawdown)],
    ['VaR (5 %)', pct(m.valueAtRisk)],
    ['CVaR (5 %)', pct(m.conditionalValueAtRisk)],
    ['Win rate', pct(m.winRate)],
    ['Cumulative return', pct(m.cumulativeReturn)],
  ];
  $('metrics').tBodies[0].replaceChildren(
    ...rows.map(([k, v]) => {
      const tr = document.createElement('tr');
      tr.append(
        Object.assign(document.createElement('td'), { textContent: k }),
        Object.assign(document.createElement('td'), { textContent: v }),
      );
      return tr;
    }),
  );
}

const SYSTEM_CARDS = [
  ['cpu', 'CPU', (v) => `${v.toFixed(1)} %`, (v) => (v < 80 ? 'ok' : 'bad'), 'target < 80 %'],
  ['memory', 'Memory', (v) => `${v.toFixed(1)} %`, (v) => (v < 85 ? 'ok' : 'bad'), 'target < 85 %'],
  ['disk', 'Disk', (v) => `${v.toFixed(1)} %`, (v) => (v < 90 ? 'ok' : 'warn'), ''],
  [
    'apiResponseTime',
    'API response time',
    (v) => `${v.toFixed(3)} s`,
    (v) => (v < 2 ? 'ok' : 'bad'),
    'target < 2.0 s',
  ],
  [
    'errorRate',
    'Error rate',
    (v) => `${v.toFixed(2)} %`,
    (v) => (v < 5 ? 'ok' : 'bad'),
    'target < 5 %',
  ],
  ['cacheHitRate', 'Cache hit rate', (v) => `${v.toFixed(1)} %`, () => 'ok', ''],
  ['netInBytesPerSec', 'Network in', (v) => `${(v / 1024).toFixed(1)} KiB/s`, () => 'ok', ''],
  ['netOutBytesPerSec', 'Network out', (v) => `${(v / 1024).toFixed(1)} KiB/s`, () => 'ok', ''],
];

function renderSystem() {
  const host = [...state.system.values()].sort((a, b) => b.ts - a.ts)[0];
  if (!host) return;
  $('system-meta').textContent = `${host.host} · ${new Date(host.ts).toLocaleTimeString()}`;
  $('system-cards').replaceChildren(
    ...SYSTEM_CARDS.map(([key, label, show, cls, target]) => {
      const v = host[key];
      const card = document.createElement('div');
      card.id = `sys-${key}`;
      card.className = `card ${v === undefined ? 'unmeasured' : cls(v)}`;
      card.innerHTML = '<h3></h3><p class="value"></p><p class="word"></p>';
      card.querySelector('h3').textContent = label;
      card.querySelector('.value').textContent = v === undefined ? 'not measured' : show(v);
      card.querySelector('.word').textContent = target;
      return card;
    }),
  );
}

function renderAlerts() {
  const active = [...state.alerts.values()];
  const crit = active.filter((a) => a.level === 'critical').length;
  setCard(
    'card-alerts',
    String(active.length),
    crit ? `${crit} critical` : '',
    active.length === 0 ? 'ok' : crit ? 'bad' : 'warn',
  );
  const shown = [...active, ...state.recent.filter((a) => a.state === 'resolved')].slice(0, 50);
  $('alerts').replaceChildren(
    ...shown.map((a) => {
      const li = document.createElement('li');
      li.className = `${a.level} ${a.state}`;
      li.dataset.incident = a.incidentId;
      li.innerHTML = '<strong></strong> <span class="msg"></span><div class="rec"></div>';
      li.querySelector('strong').textContent = `${a.level.toUpperCase()} ${a.state}`;
      li.querySelector('.msg').textContent =
        `${a.message} · ${new Date(a.ts).toLocaleTimeString()}`;
      li.querySelector('.rec').textContent = a.recommendation;
      return li;
    }),
  );
}

function onFrame(f) {
  if (f.type === 'snapshot') {
    for (const u of f.scores ?? []) state.scores.set(u.strategy, u);
    for (const s of f.system ?? []) state.system.set(s.host, s);
    if (f.alerts) {
      state.alerts.clear();
      for (const a of f.alerts) state.alerts.set(a.incidentId, a);
    }
  } else if (f.type === 'score') state.scores.set(f.data.strategy, f.data);
  else if (f.type === 'system') state.system.set(f.data.host, f.data);
  else if (f.type === 'alert') {
    if (f.data.state === 'firing') state.alerts.set(f.data.incidentId, f.data);
    else state.alerts.delete(f.data.incidentId);
    state.recent.unshift(f.data);
    state.recent.length = Math.min(state.recent.length, 50);
  }
  scheduleRender();
}

let pending = false;
function scheduleRender() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    renderScores();
    renderSystem();
    renderAlerts();
  });
}

function setStatus(s) {
  const el = $('status');
  el.textContent = s;
  el.className = `status ${s}`;
  el.dataset.state = s;
}

let attempt = 0;
function connect() {
  const ws = new WebSocket(
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
  );
  ws.onopen = () => {
    attempt = 0;
    setStatus('live');
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['strategy:*', 'system', 'alerts'] }));
  };
  ws.onmessage = (e) => onFrame(JSON.parse(e.data));
  ws.onclose = () => {
    setStatus('reconnecting');
    const delay = Math.min(10_000, 250 * 2 ** attempt++);
    setTimeout(connect, delay);
  };
}

$('strategy').addEventListener('change', (e) => {
  state.selected = e.target.value;
  localStorage.setItem('strategy', state.selected);
  scheduleRender();
});
connect();
