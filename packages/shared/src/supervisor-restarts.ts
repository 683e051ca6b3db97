import { z } from 'zod';

/**
 * What `npm start`'s supervisor (scripts/start.ts) records each time it
 * restarts a service that exited unexpectedly, so the gateway's pipeline
 * view can show it: one record per supervised child in one global hash
 * (`keys.supervisorRestarts`, field `<host>/<child>`), rewritten at each
 * restart with the count since that npm start and the latest exit. A
 * supervisor clears its own host's fields when it starts and when it stops
 * cleanly, so the counts are those of the running npm start, as on its
 * /metrics. Under docker compose (no supervisor: the engine restarts
 * containers) nothing writes it, and the view shows no restarts.
 */
export const SupervisorRestart = z.strictObject({
  /** The service (collector, scorer, alerter, gateway, historian). */
  service: z.string().min(1).max(64),
  /** The supervised child: the service, or `scorer-2` for a replica. */
  child: z.string().min(1).max(64),
  host: z.string().min(1).max(255),
  /** Restarts of this child since its npm start began. */
  restarts: z.number().int().positive(),
  /** Epoch ms of the latest unexpected exit. */
  lastAt: z.number().int().nonnegative(),
  /** How it ended, in words: `killed by SIGKILL`, `exited with code 1`. */
  lastExit: z.string().min(1).max(200),
  exitCode: z.number().int().nullable(),
  signal: z.string().max(32).nullable(),
  /** Epoch ms the supervising npm start began. */
  supervisorStartedAt: z.number().int().nonnegative(),
});
export type SupervisorRestart = z.infer<typeof SupervisorRestart>;

/** The hash field of one supervised child. */
export function supervisorRestartField(host: string, child: string): string {
  return `${host}/${child}`;
}

/** Every readable record of the hash; a field that fails its schema is skipped. */
export function parseSupervisorRestarts(raw: Record<string, string>): SupervisorRestart[] {
  const out: SupervisorRestart[] = [];
  for (const json of Object.values(raw)) {
    try {
      const r = SupervisorRestart.safeParse(JSON.parse(json));
      if (r.success) out.push(r.data);
    } catch {
      // not JSON: skipped
    }
  }
  return out;
}
