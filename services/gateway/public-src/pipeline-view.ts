/**
 * The pipeline health panel: GET /api/pipeline polled while the panel is
 * open. Every figure is what the gateway read from Redis; a part it could
 * not read says so.
 */
import { el } from './format.js';
import { ageText } from './overview-model.js';

// The server's response types (type-only: nothing of the server is bundled).
export type { PipelineHealth } from '../src/pipeline-health.js';
import type { GroupLag as Lag, PipelineHealth, RestartView } from '../src/pipeline-health.js';

const dash = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined ? '–' : v.toFixed(digits);

/** Older down replicas of a service that has a live one are folded away after this long. */
const FOLD_AFTER_S = 600;

/** "Last restart: scorer-2 killed by SIGKILL 3 min ago on desk-1 (its 2nd)". */
function lastRestartLine(r: RestartView, now: number): HTMLElement {
  return el('p', {
    className: 'last-restart',
    textContent:
      `last restart: ${r.child} ${r.exit} ${ageText(Math.max(0, now - r.at))} ago on ${r.host}` +
      (r.restarts > 1 ? ` (${r.restarts} restarts of it)` : ''),
    title: new Date(r.at).toLocaleString(),
  });
}

export function renderPipeline(root: HTMLElement, h: PipelineHealth): void {
  const services = el('div', { className: 'svc-grid', id: 'svc-grid' });
  for (const s of h.services) {
    const shown = s.replicas.filter(
      (r) => r.status === 'up' || s.up === 0 || r.silentSeconds < FOLD_AFTER_S,
    );
    const folded = s.replicas.length - shown.length;
    const card = el(
      'div',
      { className: `svc ${s.status}` },
      el(
        'h3',
        {},
        `${s.service} `,
        el('span', { className: `badge svc-state`, textContent: s.status }),
        el('small', { textContent: ` ${s.up} up` }),
        ...(s.restarts > 0
          ? [
              el('span', {
                className: 'badge restarts',
                textContent: `${s.restarts} restart${s.restarts === 1 ? '' : 's'}`,
                title: 'restarted by npm start after it exited unexpectedly',
              }),
            ]
          : []),
      ),
      el(
        'ul',
        { className: 'replicas' },
        ...shown.map((r) => {
          const li = el(
            'li',
            { className: r.status },
            el('span', { className: 'badge', textContent: r.status }),
            ` ${r.replica} `,
            el('small', {
              textContent:
                r.status === 'up'
                  ? `v${r.version} · up ${ageText(r.uptimeSeconds * 1000)} · ${r.host} pid ${r.pid}`
                  : `v${r.version} · last heartbeat ${ageText(r.silentSeconds * 1000)} ago · ${r.host} pid ${r.pid}`,
            }),
          );
          li.dataset['replica'] = r.replica;
          li.dataset['status'] = r.status;
          return li;
        }),
        ...(folded > 0
          ? [el('li', { className: 'folded', textContent: `${folded} earlier replicas gone` })]
          : []),
      ),
      ...(s.lastRestart ? [lastRestartLine(s.lastRestart, h.ts)] : []),
    );
    card.dataset['service'] = s.service;
    card.dataset['status'] = s.status;
    // 0 under docker compose: nothing supervises there (the engine restarts containers).
    card.dataset['restarts'] = String(s.restarts ?? 0);
    services.append(card);
  }
  const q = h.emergencyQueue;
  const tiles: [string, string, string][] = [
    [
      'Ingest',
      h.ingest.samplesPerSecond === null ? 'measuring…' : `${dash(h.ingest.samplesPerSecond, 1)}/s`,
      '',
    ],
    ['Dead letters', dash(h.deadLetters), (h.deadLetters ?? 0) > 0 ? 'warn' : 'ok'],
    [
      'Pipeline errors (1 min)',
      dash(h.pipelineErrorsLastMinute),
      (h.pipelineErrorsLastMinute ?? 0) > 0 ? 'warn' : 'ok',
    ],
    ...h.errorRate.map((e): [string, string, string] => [
      `Error rate ${e.host}`,
      e.percent === null ? 'not measured' : `${e.percent.toFixed(2)} %`,
      (e.percent ?? 0) > 5 ? 'bad' : 'ok',
    ]),
    ...('error' in q
      ? [['Emergency queue', q.error, 'bad'] as [string, string, string]]
      : ([
          ['Emergency waiting', String(q.waiting + q.delayed), q.waiting > 0 ? 'warn' : 'ok'],
          ['Emergency active', String(q.active), ''],
          ['Emergency failed', String(q.failed), q.failed > 0 ? 'bad' : 'ok'],
          ['Emergency completed', String(q.completed), ''],
        ] as [string, string, string][])),
  ];
  const stats = el(
    'div',
    { className: 'cards', id: 'pipeline-stats' },
    ...tiles.map(([k, v, tone]) => {
      const c = el(
        'div',
        { className: `card ${tone}` },
        el('h3', { textContent: k }),
        el('p', { className: 'value', textContent: v }),
      );
      c.dataset['stat'] = k;
      return c;
    }),
  );
  // One row per stream and group; the partitions' lags side by side (P columns would not fit a phone).
  const groups = new Map<string, Lag[]>();
  for (const l of h.lag) {
    const k = `${l.stream}\u0000${l.group}`;
    groups.set(k, [...(groups.get(k) ?? []), l]);
  }
  const sum = (xs: Lag[], f: (l: Lag) => number | null): number | null =>
    xs.some((x) => f(x) === null) ? null : xs.reduce((a, x) => a + (f(x) ?? 0), 0);
  const lag = el(
    'table',
    { className: 'lag', id: 'lag-table' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['Stream', 'Group', 'Lag', 'Pending', 'Per partition'].map((t) =>
          el('th', { textContent: t }),
        ),
      ),
    ),
    el(
      'tbody',
      {},
      ...[...groups.values()]
        .sort(
          (a, b) =>
            a[0]!.stream.localeCompare(b[0]!.stream) || a[0]!.group.localeCompare(b[0]!.group),
        )
        .map((ls) => {
          ls.sort((a, b) => (a.partition ?? -1) - (b.partition ?? -1));
          const total = sum(ls, (l) => l.lag);
          const tr = el(
            'tr',
            { className: (total ?? 0) > 1000 ? 'warn' : '' },
            el('td', { textContent: ls[0]!.stream }),
            el('td', { textContent: ls[0]!.group }),
            el('td', { textContent: dash(total) }),
            el('td', { textContent: dash(sum(ls, (l) => l.pending)) }),
            el('td', {
              className: 'parts',
              textContent:
                ls[0]!.partition === null
                  ? 'global stream'
                  : ls.map((l) => `p${l.partition}:${dash(l.lag)}`).join(' '),
            }),
          );
          tr.dataset['stream'] = ls[0]!.stream;
          tr.dataset['group'] = ls[0]!.group;
          return tr;
        }),
    ),
  );
  root.replaceChildren(
    el('h3', { textContent: 'Services' }),
    el('p', {
      className: 'hint',
      textContent: `A replica with no heartbeat for ${h.downAfterMs / 1000} s is down. P = ${h.partitions}. Read ${new Date(h.ts).toLocaleTimeString()}.`,
    }),
    services,
    el('h3', { textContent: 'Throughput, errors, emergency queue' }),
    stats,
    el('h3', { textContent: 'Consumer lag per group and partition' }),
    lag,
  );
}
