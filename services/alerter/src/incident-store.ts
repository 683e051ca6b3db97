import {
  asFenced,
  DATA_FIELD,
  FENCE_LUA,
  Incident,
  parseJson,
  positionArgs,
  readJsonHash,
  setPositionsLua,
  STREAM_MAXLEN,
  writeWithWait,
  type Lease,
  type ReplicaWait,
  type Logger,
  type PartitionKeys,
  type StreamPosition,
} from '@quantmon/shared';
import type { Redis } from 'ioredis';
import type { Transition } from './alerter-core.js';

/**
 * Compare-and-set of incident records plus their events, for a batch of
 * transitions, atomically, fenced by the partition's lease, together with
 * the alerter group's position on the streams the batch came from. Each
 * transition names the incident id it expects under its field ('' for
 * none). When the hash holds something else (another alerter opened or
 * closed it first), that transition is skipped and the current record is
 * returned so the caller adopts it: two alerters can never open two
 * incidents for one rule and subject. Its event is written only when its
 * record is. A writer that lost the lease is refused (FENCED) as a whole.
 *
 * KEYS: lease, incidents hash, alerts stream, scores stream, system stream.
 * ARGV: token, MAXLEN, the position block (setPositionsLua, from ARGV[3]),
 * then (field, expected id, record, event) quadruples.
 */
const APPLY_LUA = `${FENCE_LUA}
${setPositionsLua(3)}
local out = {}
for i = 3 + 2 + npos * 4, #ARGV, 4 do
  local field, expect, record, event = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local cur = redis.call('HGET', KEYS[2], field)
  local curId = ''
  if cur then
    local ok, decoded = pcall(cjson.decode, cur)
    if ok and type(decoded) == 'table' and type(decoded.firing) == 'table' then
      curId = tostring(decoded.firing.incidentId)
    end
  end
  if curId == expect then
    if record == '' then redis.call('HDEL', KEYS[2], field) else redis.call('HSET', KEYS[2], field, record) end
    if event ~= '' then
      redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', '${DATA_FIELD}', event)
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
  quantmonApplyIncidents(...args: (string | number)[]): unknown;
}

/** Defines the script once per connection; pipelines made afterwards have it too. */
function defineScript(redis: Redis): void {
  if (!(redis as Redis & Partial<ApplyCommand>).quantmonApplyIncidents) {
    redis.defineCommand('quantmonApplyIncidents', { numberOfKeys: 5, lua: APPLY_LUA });
  }
}

/** A transition another alerter pre-empted: adopt `current` (undefined: nothing open). */
export interface Conflict {
  transition: Transition;
  current: Incident | undefined;
}

/** Where a partition's alerter writes, and the lease that fences it. */
export interface FencedTarget {
  pk: PartitionKeys;
  lease: Lease;
  group: string;
  /** WAIT for replicas after each write (REDIS_WAIT_REPLICAS). */
  wait?: ReplicaWait | undefined;
}

/**
 * Persist transitions and publish their events atomically, moving the
 * group to `positions` in the same fenced step; returns the ones pre-empted.
 * Throws FencedError when this replica no longer holds the partition.
 */
export async function writeTransitions(
  redis: Redis,
  target: FencedTarget,
  transitions: readonly Transition[],
  log: Logger,
  positions: readonly StreamPosition[] = [],
): Promise<Conflict[]> {
  if (transitions.length === 0 && positions.length === 0) return [];
  const { pk, lease, group } = target;
  const args: (string | number)[] = [
    lease.token,
    STREAM_MAXLEN.alerts,
    ...positionArgs(group, positions, (key) => (key === pk.scores ? 4 : 5)),
  ];
  for (const t of transitions) {
    args.push(
      t.key,
      t.expect ?? '',
      t.incident ? JSON.stringify(t.incident) : '',
      t.event ? JSON.stringify(t.event) : '',
    );
  }
  let res: string[] | 'dup';
  defineScript(redis);
  try {
    res = await writeWithWait<string[] | 'dup'>(redis, target.wait, (p) =>
      (p as typeof p & ApplyCommand).quantmonApplyIncidents(
        pk.lease('alerter'),
        pk.incidents,
        pk.alerts,
        pk.scores,
        pk.systemSamples,
        ...args,
      ),
    );
  } catch (err) {
    throw asFenced(err);
  }
  // 'dup': this very write ran before its reply was lost; nothing was pre-empted.
  if (res === 'dup') return [];
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
  keys: Pick<PartitionKeys, 'incidents'>,
  log: Logger,
): Promise<Map<string, Incident>> {
  return readJsonHash(redis, keys.incidents, Incident, (key) =>
    log.error({ key }, 'ignoring unreadable incident record'),
  );
}

/** Last-seen times per subject (no-data), kept in Redis across restarts. */
export async function loadLastSeen(
  redis: Redis,
  keys: Pick<PartitionKeys, 'lastSeen'>,
): Promise<Map<string, number>> {
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
  keys: Pick<PartitionKeys, 'lastSeen'>,
  seen: ReadonlyMap<string, number>,
): Promise<void> {
  if (seen.size === 0) return;
  const flat: (string | number)[] = [];
  for (const [s, t] of seen) flat.push(s, t);
  await redis.hset(keys.lastSeen, ...flat);
}
