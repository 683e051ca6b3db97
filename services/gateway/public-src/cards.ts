import type { AlertEvent, ScoreUpdate, SystemSample } from '@quantmon/shared';
import { byId, el } from './format.js';

type Tone = 'ok' | 'warn' | 'bad' | 'unmeasured' | 'none';

function setCard(id: string, value: string, word: string, tone: Tone): void {
  const card = byId(id);
  card.className = `card ${tone}`;
  card.dataset['tone'] = tone;
  const v = card.querySelector('.value');
  const w = card.querySelector('.word');
  if (v) v.textContent = value;
  if (w) w.textContent = word;
}

const PERF_TONE = { EXCELLENT: 'ok', GOOD: 'warn', 'NEEDS IMPROVEMENT': 'bad' } as const;
const RISK_TONE = { LOW: 'ok', MODERATE: 'warn', HIGH: 'bad' } as const;

/** Performance (> 70), risk (< 30), stability (> 80) and active alerts, with status words. */
export function renderScoreCards(
  u: ScoreUpdate | undefined,
  active: Map<string, AlertEvent>,
): void {
  if (u) {
    const s = u.scores;
    setCard(
      'card-performance',
      s.performance.toFixed(1),
      u.status.performance,
      PERF_TONE[u.status.performance],
    );
    setCard('card-risk', s.risk.toFixed(1), u.status.risk, RISK_TONE[u.status.risk]);
    setCard(
      'card-stability',
      s.stability.toFixed(1),
      u.status.stability,
      s.stability > 80 ? 'ok' : 'warn',
    );
  }
  const all = [...active.values()];
  const crit = all.filter((a) => a.level === 'critical').length;
  const warn = all.filter((a) => a.level === 'warning').length;
  setCard(
    'card-alerts',
    String(all.length),
    all.length === 0
      ? 'none firing'
      : [crit && `${crit} critical`, warn && `${warn} warning`].filter(Boolean).join(' · ') ||
          'info',
    all.length === 0 ? 'ok' : crit ? 'bad' : 'warn',
  );
}

interface SystemCard {
  key: keyof SystemSample;
  label: string;
  show: (v: number) => string;
  tone: (v: number) => Tone;
  target: string;
}

const SYSTEM_CARDS: SystemCard[] = [
  {
    key: 'cpu',
    label: 'CPU',
    show: (v) => `${v.toFixed(1)} %`,
    tone: (v) => (v < 80 ? 'ok' : 'bad'),
    target: 'target < 80 %',
  },
  {
    key: 'memory',
    label: 'Memory',
    show: (v) => `${v.toFixed(1)} %`,
    tone: (v) => (v < 85 ? 'ok' : 'bad'),
    target: 'target < 85 %',
  },
  {
    key: 'apiResponseTime',
    label: 'API response time',
    show: (v) => `${v.toFixed(3)} s`,
    tone: (v) => (v < 2 ? 'ok' : 'bad'),
    target: 'target < 2.0 s',
  },
  {
    key: 'errorRate',
    label: 'Error rate',
    show: (v) => `${v.toFixed(2)} %`,
    tone: (v) => (v < 5 ? 'ok' : 'bad'),
    target: 'target < 5 %',
  },
  {
    key: 'disk',
    label: 'Disk',
    show: (v) => `${v.toFixed(1)} %`,
    tone: () => 'none',
    target: 'fullest watched mount',
  },
  {
    key: 'cacheHitRate',
    label: 'Cache hit rate',
    show: (v) => `${v.toFixed(1)} %`,
    tone: () => 'none',
    target: 'Redis keyspace',
  },
  {
    key: 'processingTimeP99',
    label: 'Processing time p99',
    show: (v) => `${(v * 1000).toFixed(1)} ms`,
    tone: () => 'none',
    target: 'sample to score',
  },
  {
    key: 'netInBytesPerSec',
    label: 'Network in',
    show: (v) => `${(v / 1024).toFixed(1)} KiB/s`,
    tone: () => 'none',
    target: '',
  },
  {
    key: 'netOutBytesPerSec',
    label: 'Network out',
    show: (v) => `${(v / 1024).toFixed(1)} KiB/s`,
    tone: () => 'none',
    target: '',
  },
];

/** System cards colored by target; an absent field is "not measured", never a made-up value. */
export function renderSystemCards(host: SystemSample | undefined): void {
  byId('system-meta').textContent = host
    ? `${host.host} · ${new Date(host.ts).toLocaleTimeString()}`
    : 'no sample yet';
  byId('system-cards').replaceChildren(
    ...SYSTEM_CARDS.map((c) => {
      const v = host?.[c.key];
      const measured = typeof v === 'number';
      const card = el(
        'div',
        { className: `card ${measured ? c.tone(v) : 'unmeasured'}`, id: `sys-${c.key}` },
        el('h3', { textContent: c.label }),
        el('p', { className: 'value', textContent: measured ? c.show(v) : 'not measured' }),
        el('p', { className: 'word', textContent: c.target }),
      );
      card.dataset['tone'] = measured ? c.tone(v) : 'unmeasured';
      return card;
    }),
  );
}
