import { isCluster } from '@quantmon/shared';
import type { Redis } from 'ioredis';

/** One command: its name and arguments (`['XINFO', 'GROUPS', key]`). */
export type Command = readonly [string, ...(string | number)[]];

/** A command's answer: its value, or the error Redis (or the client) gave for it alone. */
export type Reply = { ok: true; value: unknown } | { ok: false; error: Error };

/**
 * Send independent read commands, each on its own keys, and answer each
 * one's reply or error in order. On a single Redis they go in one pipeline
 * (one round trip). On a Cluster a pipeline may only hold keys of one slot,
 * and these keys are spread over every partition's slot: each command is
 * sent on its own, all at once, and the client routes each to the node
 * holding its key. A command that fails (no such key, a node down) fails
 * alone; the others still answer.
 */
export async function readEach(redis: Redis, commands: readonly Command[]): Promise<Reply[]> {
  if (commands.length === 0) return [];
  if (isCluster(redis)) {
    const settled = await Promise.allSettled(commands.map(([c, ...a]) => redis.call(c, ...a)));
    return settled.map((r) =>
      r.status === 'fulfilled'
        ? { ok: true, value: r.value }
        : { ok: false, error: asError(r.reason) },
    );
  }
  const p = redis.pipeline();
  for (const [c, ...a] of commands) p.call(c, ...a);
  const replies = (await p.exec()) ?? [];
  return commands.map((_, i) => {
    const r = replies[i];
    if (!r) return { ok: false, error: new Error('no reply (pipeline discarded)') };
    return r[0] ? { ok: false, error: r[0] } : { ok: true, value: r[1] };
  });
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
