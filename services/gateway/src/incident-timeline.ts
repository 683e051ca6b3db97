import type { AlertEvent, AuditEvent, Silence } from '@quantmon/shared';
// The alerter's own matcher (RE2 regexes): a silence is shown on the incidents it would mute.
import { SilenceSet } from '../../alerter/src/silences.js';

/** One step in an incident's life, with who made it and when. */
export interface TimelineStep {
  kind:
    | 'pending'
    | 'firing'
    | 'acknowledged'
    | 'silenced'
    | 'unsilenced'
    | 'inhibited'
    | 'released'
    | 'flapping'
    | 'settled'
    | 'resolved';
  at: number;
  /** Who did it: the acknowledging person and token, the silence's author; "alerter" for the rule's own steps. */
  by: string;
  detail?: string;
}

/**
 * An incident's timeline from its alert events (oldest first), the audit
 * (acknowledgements with the token's name) and the silences hash (who made
 * the silence that muted it). Pure: the route reads, this derives. Each
 * change is reported once, at the first event that carries it; an
 * acknowledgement the audit also holds is reported once, with the audit's
 * token name. Silences created, expired early or lapsed while the incident
 * was open are taken from the audit when their matchers match the
 * incident (the alerter marks `silenced` only on the incident's next
 * event, which a steady firing incident may not have for a while).
 */
export function incidentTimeline(
  events: readonly AlertEvent[],
  audit: readonly AuditEvent[],
  silences: ReadonlyMap<string, Silence>,
): TimelineStep[] {
  const steps: TimelineStep[] = [];
  const acks = new Set<string>();
  let state: string | undefined;
  let silenced: string | undefined;
  let inhibited: string | undefined;
  let flapping = false;
  const tokenOf = (at: number, by: string): string | undefined => {
    for (const a of audit) {
      if (a.kind === 'acknowledged' && a.ack.at === at && a.ack.by === by) return a.by;
    }
    return undefined;
  };
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  const fromAudit = new Set<string>();
  if (first && last) {
    const end = last.state === 'resolved' ? (last.endsAt ?? last.ts) : Number.MAX_SAFE_INTEGER;
    for (const a of audit) {
      if (a.kind === 'acknowledged' || a.kind === 'rules-changed') continue;
      if (a.kind === 'catalogue-changed') continue;
      if (a.kind === 'strategy-retired') continue; // its closings are events of the incident
      if (a.at < first.startsAt || a.at > end) continue;
      const always = { ...a.silence, startsAt: 0, endsAt: Number.MAX_SAFE_INTEGER };
      if (!new SilenceSet([always]).match(last, 1)) continue;
      fromAudit.add(a.silence.id);
      const what = a.silence.matchers.map((m) => `${m.name}${m.op}${m.value}`).join(', ');
      steps.push(
        a.kind === 'silence-created'
          ? {
              kind: 'silenced',
              at: a.at,
              by: a.by,
              detail: `${a.silence.id} (${what}) until ${new Date(a.silence.endsAt).toISOString()}${a.silence.comment ? `: ${a.silence.comment}` : ''}`,
            }
          : {
              kind: 'unsilenced',
              at: a.at,
              by: a.by,
              detail: `${a.silence.id} ${a.kind === 'silence-deleted' ? 'expired early' : 'lapsed'}`,
            },
      );
    }
  }
  for (const e of sorted) {
    if (e.state !== state) {
      state = e.state;
      const detail = `${e.metric} ${e.value} vs threshold ${e.threshold}`;
      if (e.state === 'resolved')
        steps.push({ kind: 'resolved', at: e.endsAt ?? e.ts, by: 'alerter', detail });
      else steps.push({ kind: e.state, at: e.ts, by: 'alerter', detail });
    }
    for (const a of e.acknowledgements ?? (e.acknowledged ? [e.acknowledged] : [])) {
      const key = `${a.at}|${a.by}`;
      if (acks.has(key)) continue;
      acks.add(key);
      const token = a.tokenName ?? tokenOf(a.at, a.by);
      steps.push({
        kind: 'acknowledged',
        at: a.at,
        by: token && token !== a.by ? `${a.by} (token ${token})` : a.by,
        ...(a.comment ? { detail: a.comment } : {}),
      });
    }
    if (e.silenced?.id !== silenced) {
      if (e.silenced && fromAudit.has(e.silenced.id)) {
        // already in the timeline from the audit, with who
      } else if (e.silenced) {
        const s = silences.get(e.silenced.id);
        steps.push({
          kind: 'silenced',
          at: e.ts,
          by: s?.createdBy ?? 'unknown',
          detail: `${e.silenced.id} until ${new Date(e.silenced.endsAt).toISOString()}${s?.comment ? `: ${s.comment}` : ''}`,
        });
      } else if (silenced === undefined || !fromAudit.has(silenced)) {
        steps.push({ kind: 'unsilenced', at: e.ts, by: 'alerter', detail: silenced ?? '' });
      }
      silenced = e.silenced?.id;
    }
    if (e.inhibitedBy?.incidentId !== inhibited) {
      steps.push(
        e.inhibitedBy
          ? {
              kind: 'inhibited',
              at: e.ts,
              by: 'alerter',
              detail: `by ${e.inhibitedBy.rule} (${e.inhibitedBy.incidentId})`,
            }
          : { kind: 'released', at: e.ts, by: 'alerter' },
      );
      inhibited = e.inhibitedBy?.incidentId;
    }
    if ((e.flapping ?? false) !== flapping) {
      flapping = e.flapping ?? false;
      steps.push({ kind: flapping ? 'flapping' : 'settled', at: e.ts, by: 'alerter' });
    }
  }
  return steps.sort((a, b) => a.at - b.at);
}
