import type { AlertEvent } from '@quantmon/shared';
import type { Incident } from './incident.js';

/** One change to an incident, as the alerter's core returns it for the store to persist. */
export interface Transition {
  /** open: a new incident (pending or firing); fire: pending -> firing; resolve; update: same state, new facts. */
  kind: 'open' | 'fire' | 'resolve' | 'update';
  /** Field of the incidents hash. */
  key: string;
  /** The incident id the hash must hold for this write to apply; null: no incident there. */
  expect: string | null;
  /** The incident after the transition; undefined once closed. */
  incident: Incident | undefined;
  /** The incident before it (a resolve's notification needs to know it was notified). */
  previous: Incident | undefined;
  /** The event for the alerts stream; undefined for silent bookkeeping (outbox flags). */
  event: AlertEvent | undefined;
}

export interface Outbox {
  /** Firing critical incidents whose emergency job is not confirmed. */
  jobs: Incident[];
  /** Firing incidents whose receivers have not been notified. */
  notify: Incident[];
  /** Firing, notified, unacknowledged incidents due a repeat notification. */
  repeat: Incident[];
}
