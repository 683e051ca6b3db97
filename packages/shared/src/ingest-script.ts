import { DATA_FIELD } from './stream-codec.js';

/**
 * A field of every partition's last-ts hash that is not a strategy: its
 * value, longer than Redis's hash-max-listpack-value (64 bytes), keeps
 * the hash a hash table rather than a list scanned per field (see the
 * script). Readers of the hash skip it; '#' is not allowed in a strategy id.
 */
export const LAST_TS_LAYOUT_FIELD = '#layout';
export const LAST_TS_LAYOUT_NOTE =
  'a hash table: this value is longer than hash-max-listpack-value, so HMGET and HSET do not scan a list';

/**
 * One atomic step for the shares of one or more partitions of a batch, in
 * a Lua script: for each sample (in the order given) skip it when its id was marked before
 * (idempotency), else mark it; skip it and drop the new mark when its ts is
 * more than the tolerance before the strategy's latest (ordering), else
 * XADD it and advance the strategy's latest ts. Replies one string per
 * sample: "w<entry id>" written, "l<entry id>" written late (within the
 * tolerance), "d" duplicate, "o" out of order; or, when the caller needs
 * no entry ids, one string of those letters, one per sample (the
 * collector: one bulk string per call to encode, send and parse instead of
 * one per sample).
 *
 * The marks are members of one set per strategy and generation: a
 * generation is TTL seconds of Redis's clock (floor(TIME / TTL)); an id is
 * looked up in the previous generation's set (SISMEMBER) and added (SADD)
 * to the current one, and each set expires at the end of the generation
 * after its own. So an id is remembered at least TTL seconds and at most
 * twice that. Why not one key per id (SET NX EX, the first layout): each
 * such key is an entry in Redis's keyspace and in its expiry table, which
 * the active expiry cycle keeps sampling: a day of ids at 1,000 samples/s
 * is 86 M of each, ~133 B a mark against ~59 B for a set member; a set
 * member is also cheaper to add, and one expiry per strategy replaces one
 * per sample (docs/performance.md). Why
 * a set and not a hash: Redis keeps a hash of up to 512 fields
 * (hash-max-listpack-entries) as a flat list it scans on every HSETNX,
 * which cost ~25,000 instructions per mark against ~6,000 for SADD
 * (counted under callgrind, docs/performance.md). A set of ids is a hash
 * table from its first member on Redis 7.0; 7.2 and later keep sets of up
 * to 128 members as a flat list too, a scan a quarter as long.
 *
 * After an upgrade from the first layout, its marks (a string key per id)
 * are also checked until one TTL has passed since this layout's first
 * write on the partition, so a batch retried across the upgrade is still
 * written once; on a new pipeline (no sample written yet) never.
 *
 * Redis does not roll a script back on an error: a failing XADD
 * (WRONGTYPE, OOM) drops the mark it just set and stores the latest ts of
 * what was written before answering the error, so what the script wrote
 * stays consistent (written samples marked, nothing marked that was not
 * written) and a retry with the same ids writes exactly the rest.
 *
 * Why several partitions in one call: on a single Redis every key is
 * reachable from one script, and a call costs ~100k instructions before
 * its first sample (the EVALSHA, the clock, the last-ts HMGET and HSET, the
 * trim), so a POST over P partitions made P calls: at moderate rates, a few
 * samples each, most of Redis's ingest time (docs/performance.md). On a
 * Cluster the caller sends one partition per call (its keys share one
 * slot). A share whose XADD fails answers its error in its place and the
 * other shares are written, as separate calls were: the retry of the batch
 * finds the written ones duplicates.
 *
 * KEYS: per partition, its stream, last-ts hash and legacy-marks-until
 * (three keys each, in the order of the shares in ARGV). ARGV: MAXLEN, TTL
 * seconds, tolerance ms, '1' to answer entry ids ('0': letters only); then
 * per partition: mark-set prefix, legacy mark prefix, the share's sample
 * count n, and n times strategy, ts, id ('' for none), JSON. The reply has
 * one element per share, in ARGV order: its per-sample replies, its string
 * of letters, or '!' and the error of a share not written. Timestamps are compared as numbers (exact
 * below 2^53) and stored as the strings given, so no precision is lost in
 * Lua's number format. The mark keys are built
 * inside the script from prefixes that carry the partition's hash tag:
 * they share the slot of its stream, so a one-partition call is legal on a
 * Redis Cluster.
 */
export const APPEND_SCRIPT = `
-- Globals read per sample as locals: a global is a table lookup at every
-- use, a local a register (fewer instructions per sample, counted).
local ARGV, tonumber, call, rpcall = ARGV, tonumber, redis.call, redis.pcall
local maxlen = ARGV[1]
local ttl, tol = tonumber(ARGV[2]), tonumber(ARGV[3])
local withIds = ARGV[4] == '1'
-- Redis's clock and the marks' generation, read once per call when the
-- first sample with an id needs them: a call without ids does not pay.
local now, gen
-- unpack() is bounded by Lua's C stack: arguments go in chunks.
local CHUNK = 1000
-- The share being written: its keys and mark prefixes, set by share() (the
-- helpers below read them as upvalues: no closures made per share).
local stream, lastKey, legacyKey, ids, seen
local curPrefix, prevPrefix, expireAt, legacy
-- Each strategy's latest ts (last), the ones this share moved (dirty),
-- whether it wrote anything; curKey[strategy]: its current mark set;
-- expire[strategy]: that set was made by this share, so it needs its expiry;
-- tabled: the last-ts hash holds LAYOUT (so Redis keeps it as a hash table).
local last, dirty, written, curKey, expire, tabled
-- Redis keeps a hash of up to 512 short fields (hash-max-listpack-entries,
-- hash-max-listpack-value 64) as one flat list that HMGET and HSET scan
-- field by field: with hundreds of strategies per partition, the last-ts
-- reads and writes cost more than the rest of the call (90k instructions
-- a sample at 2,000 strategies against 60k as a table, counted by
-- bench:ingest-instructions). One field whose value is longer than 64
-- bytes makes Redis convert the hash to a table, and keep it one (a
-- reload converts it again for the same reason). Its name cannot be a
-- strategy id ('#' is not allowed in one).
local LAYOUT = '${LAST_TS_LAYOUT_FIELD}'
local LAYOUT_NOTE = '${LAST_TS_LAYOUT_NOTE}'

local function generation()
  if not now then
    now = tonumber(call('TIME')[1])
    gen = math.floor(now / ttl)
  end
  curPrefix = ids .. string.format('%d', gen) .. ':'
  prevPrefix = ids .. string.format('%d', gen - 1) .. ':'
  expireAt = string.format('%d', (gen + 2) * ttl)
  local legacyUntil = call('GET', legacyKey)
  if not legacyUntil then
    -- The first layout wrote the last-ts hash and stream entries; the scorer's
    -- group creation (MKSTREAM) makes an empty stream, which is not an upgrade.
    local len = rpcall('XLEN', stream)
    local upgrade = call('EXISTS', lastKey) == 1 or (type(len) == 'number' and len > 0)
    legacyUntil = upgrade and string.format('%d', now + ttl) or '0'
    call('SET', legacyKey, legacyUntil)
  end
  legacy = now < tonumber(legacyUntil)
end
-- Each strategy's latest ts, read for all of the share's strategies in one
-- HMGET and written back in one HSET: one command per strategy each way
-- cost ~3-5k instructions (bench:ingest-instructions), most of a call's
-- per-strategy cost when samples spread over many strategies (half load).
local function chunked(cmd, list)
  for a = 1, #list, CHUNK do
    local b = math.min(#list, a + CHUNK - 1)
    local r = call(cmd, lastKey, unpack(list, a, b))
    if cmd == 'HMGET' then
      for k = a, b do
        local v = r[k - a + 1]
        local s = list[k]
        if s == LAYOUT then tabled = v ~= false else last[s] = v and tonumber(v) or -1 end
      end
    end
  end
end
-- When a set made in generation gen expires: at the end of gen + 1, plus
-- a second of its own within a tenth of a generation, by a hash of its
-- name. At the end of gen + 1 alone, every strategy's set of a generation
-- would expire in the same second, and their frees (millions of marks
-- each, in Redis's background thread: docs/operations.md, "Redis's
-- frees") would take a core together. Later is harmless: a set is only
-- looked up in its own generation and the next.
local function expiryOf(key)
  local spread = math.floor(ttl / 10)
  if spread < 1 then return expireAt end
  local h = tonumber(string.sub(redis.sha1hex(key), 1, 7), 16)
  return string.format('%d', (gen + 2) * ttl + h % spread)
end
-- A set that existed already has its expiry (and keeps a member: unmark
-- removes only ids added by this call): no EXPIREAT (a write, and an AOF
-- entry) per strategy per call.
local function flush()
  -- LAYOUT first, so the first chunk converts the hash before the rest go in.
  local pairsList = tabled and {} or { LAYOUT, LAYOUT_NOTE }
  local any = false
  for s, v in pairs(dirty) do any = true; pairsList[#pairsList + 1] = s; pairsList[#pairsList + 1] = v end
  -- Whole field-value pairs per chunk: CHUNK is even. Nothing moved, nothing
  -- written: a share that wrote nothing leaves no hash.
  if any then chunked('HSET', pairsList) end
  for s in pairs(expire) do
    local k = curKey[s]
    call('EXPIREAT', k, expiryOf(k))
  end
end
-- True when the id was marked before; else marks it.
local function marked(strategy, id)
  if not curPrefix then generation() end
  if call('SISMEMBER', prevPrefix .. strategy, id) == 1 then return true end
  if legacy and call('EXISTS', seen .. strategy .. ':' .. id) == 1 then return true end
  local k = curKey[strategy]
  if k == nil then
    k = curPrefix .. strategy
    curKey[strategy] = k
    if call('EXISTS', k) == 0 then expire[strategy] = true end
  end
  return call('SADD', k, id) == 0
end
local function unmark(strategy, id)
  call('SREM', curKey[strategy], id)
end

-- One share: its samples at ARGV[from .. to] (quadruples). Answers one
-- reply per sample, or nil and the error of a failed XADD (after leaving
-- what it wrote consistent).
local function share(from, to)
  curPrefix, prevPrefix, expireAt, legacy = nil, nil, nil, nil
  last, dirty, written, curKey, expire, tabled = {}, {}, false, {}, {}, false
  local out = {}
  do
    local names, known = { LAYOUT }, {}
    for i = from, to, 4 do
      local s = ARGV[i]
      if not known[s] then known[s] = true; names[#names + 1] = s end
    end
    chunked('HMGET', names)
  end
  for i = from, to, 4 do
    local strategy, tsStr, id, data = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
    local ts = tonumber(tsStr)
    local r
    local hasId = id ~= ''
    if hasId and marked(strategy, id) then
      r = 'd'
    else
      local prev = last[strategy]
      if ts < prev - tol then
        if hasId then unmark(strategy, id) end -- not written: the id stays free
        r = 'o'
      else
        local entry = rpcall('XADD', stream, '*', '${DATA_FIELD}', data)
        if type(entry) == 'table' and entry.err then
          if written then call('XTRIM', stream, 'MAXLEN', '~', maxlen) end
          if hasId then unmark(strategy, id) end
          flush()
          return nil, entry
        end
        written = true
        if ts >= prev then
          if ts > prev then dirty[strategy] = tsStr end
          last[strategy] = ts
          r = withIds and 'w' .. entry or 'w'
        else
          r = withIds and 'l' .. entry or 'l'
        end
      end
    end
    out[#out + 1] = r
  end
  flush()
  -- The length cap once per share, not per XADD: MAXLEN on every XADD cost
  -- Redis a quarter of the XADD (bench:ingest-instructions, docs/performance.md).
  -- Both trim whole nodes (~), so the cap is as approximate as before.
  if written then call('XTRIM', stream, 'MAXLEN', '~', maxlen) end
  return out
end

-- One reply per share: its replies (withIds), or one string of its letters;
-- a share whose XADD failed answers '!' and the error instead, and the
-- shares after it are still written (as separate calls per partition were).
local replies, at = {}, 5
for k = 1, #KEYS, 3 do
  local n = tonumber(ARGV[at + 2])
  stream, lastKey, legacyKey, ids, seen = KEYS[k], KEYS[k + 1], KEYS[k + 2], ARGV[at], ARGV[at + 1]
  local out, err = share(at + 3, at + 2 + 4 * n)
  if err then replies[#replies + 1] = '!' .. tostring(err.err)
  elseif withIds then replies[#replies + 1] = out
  else replies[#replies + 1] = table.concat(out) end
  at = at + 3 + 4 * n
end
return replies
`;
