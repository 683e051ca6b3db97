import {
  AuditEvent,
  decodeEntry,
  encodeEntry,
  type Keys,
  type RawEntry,
  type Silence,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';

/**
 * The audit stream (keys.audit): operators' changes (acknowledgements,
 * silences created and deleted), global like the alert-commands stream,
 * written by the gateway that took the request.
 */
export const auditStream = (keys: Keys): string => keys.audit;

/** Bounded like the other streams: ~100k changes is months of operators' work. */
const AUDIT_MAXLEN = 100_000;

export async function writeAudit(redis: Redis, keys: Keys, event: AuditEvent): Promise<void> {
  const entry = encodeEntry(AuditEvent.parse(event));
  await redis.xadd(auditStream(keys), 'MAXLEN', '~', AUDIT_MAXLEN, '*', ...entry);
}

/**
 * Audit events between from and to (inclusive, epoch ms), newest first, at
 * most `limit`: the stored ones, plus a `silence-expired` for each silence
 * that reached its endsAt without being deleted (derived from the silences
 * hash, so it lasts as long as the silence is retained there).
 */
export async function readAudit(
  redis: Redis,
  keys: Keys,
  silences: Iterable<Silence>,
  range: { from?: number | undefined; to?: number | undefined; limit: number },
  now: number,
): Promise<AuditEvent[]> {
  const { from = 0, to = Number.MAX_SAFE_INTEGER, limit } = range;
  const end = to === Number.MAX_SAFE_INTEGER ? '+' : `${to}-18446744073709551615`;
  const raw = (await redis.xrevrange(
    auditStream(keys),
    end,
    `${from}-0`,
    'COUNT',
    limit,
  )) as RawEntry[];
  const out: AuditEvent[] = [];
  for (const [, fields] of raw) {
    const d = decodeEntry(fields, AuditEvent);
    if (d.ok) out.push(d.value);
  }
  for (const s of silences) {
    if (s.expiredBy !== undefined || s.endsAt > now || s.endsAt < from || s.endsAt > to) continue;
    out.push({ kind: 'silence-expired', at: s.endsAt, by: 'system', silence: s });
  }
  return out.sort((a, b) => b.at - a.at).slice(0, limit);
}
