import {
  DATA_FIELD,
  Incident,
  parseJson,
  readJsonHash,
  STREAM_MAXLEN,
  type Keys,
  type Logger,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { Transition } from './alerter-core.js';

/**
 * Compare-and-set of incident records plus their events, for a batch of
 * transitions, atomically. Each transition names the incident id it expects
 * under its field ('' for none). When the hash holds something else (another
 * alerter opened or closed it first), that transition is skipped and the
 * current record is returned so the caller adopts it: two alerters can never
 * open two incidents for one rule and subject. Its event is written only
 * when its record is.
 */
const APPLY_LUA = `
local out = {}
local n = (#ARGV - 1) / 4
for i = 0, n - 1 do
  local field, expect, record, event = ARGV[2 + i*4], ARGV[3 + i*4], ARGV[4 + i*4], ARGV[5 + i*4]
  local cur = redis.call('HGET', KEYS[1], field)
  local curId = ''
  if cur then
    local ok, decoded = pcall(cjson.decode, cur)
    if ok and type(decoded) == 'table' and type(decoded.firing) == 'table' then
      curId = tostring(decoded.firing.incidentId)
    end
  end
  if curId == expect then
    if record == '' then redis.call('HDEL', KEYS[1], field) else redis.call('HSET', KEYS[1], field, record) end
    if event ~= '' then
      redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', '${DATA_FIELD}', event)
    end
    out[#out + 1] = 'ok'
  elseif cur then
    out[#out + 1] = cur
  else
    out[#out + 1] = ''
  end
end
return out
`;

interface ApplyCommand {
  quantmonApplyIncidents(
    hash: string,
    stream: string,
    ...args: (string | number)[]
  ): Promise<string[]>;
}

function withScript(redis: Redis): ApplyCommand {
  const r = redis as Redis & Partial<ApplyCommand>;
  if (!r.quantmonApplyIncidents) {
    redis.defineCommand('quantmonApplyIncidents', { numberOfKeys: 2, lua: APPLY_LUA });
  }
  return r as Redis & ApplyCommand;
}

/** A transition another alerter pre-empted: adopt `current` (undefined: nothing open). */
export interface Conflict {
  transition: Transition;
  current: Incident | undefined;
}

/** Persist transitions and publish their events atomically; returns the ones pre-empted. */
export async function writeTransitions(
  redis: Redis,
  keys: Keys,
  transitions: readonly Transition[],
  log: Logger,
): Promise<Conflict[]> {
  if (transitions.length === 0) return [];
  const args: string[] = [];
  for (const t of transitions) {
    args.push(
      t.key,
      t.expect ?? '',
      t.incident ? JSON.stringify(t.incident) : '',
      t.event ? JSON.stringify(t.event) : '',
    );
  }
  const res = await withScript(redis).quantmonApplyIncidents(
    keys.incidents,
    keys.alerts,
    STREAM_MAXLEN.alerts,
    ...args,
  );
  const conflicts: Conflict[] = [];
  transitions.forEach((t, i) => {
    const r = res[i];
    if (r === 'ok') return;
    conflicts.push({ transition: t, current: r ? parseIncident(r, t.key, log) : undefined });
  });
  return conflicts;
}

function parseIncident(json: string, key: string, log: Logger): Incident | undefined {
  const inc = parseJson(json, Incident);
  if (!inc) log.error({ key }, 'unreadable incident record');
  return inc;
}

/** Open incidents from Redis: the alerter's state survives a restart. */
export async function loadIncidents(
  redis: Redis,
  keys: Keys,
  log: Logger,
): Promise<Map<string, Incident>> {
  return readJsonHash(redis, keys.incidents, Incident, (key) =>
    log.error({ key }, 'ignoring unreadable incident record'),
  );
}

/** Last-seen times per subject (no-data), kept in Redis across restarts. */
export async function loadLastSeen(redis: Redis, keys: Keys): Promise<Map<string, number>> {
  const raw = await redis.hgetall(keys.lastSeen);
  const out = new Map<string, number>();
  for (const [subject, ms] of Object.entries(raw)) {
    const n = Number(ms);
    if (Number.isFinite(n)) out.set(subject, n);
  }
  return out;
}

export async function saveLastSeen(
  redis: Redis,
  keys: Keys,
  seen: ReadonlyMap<string, number>,
): Promise<void> {
  if (seen.size === 0) return;
  const flat: (string | number)[] = [];
  for (const [s, t] of seen) flat.push(s, t);
  await redis.hset(keys.lastSeen, ...flat);
}
