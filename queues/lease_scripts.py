"""The Lua scripts behind leases: every change of a ticket's lease state is one script,
so it is a check-and-set that any number of replicas may run at once.

A ticket hash (``Keys.ticket``) holds, besides the router's ``state``, ``pool``,
``score`` and ``record``: ``agent``, ``lease_id``, ``lease_until`` (ms), ``lease_ms``
(the lease length), ``leased_at``, ``accepted_at``; ``prev_lease`` and ``prev_end``
(the last lease and why it ended, so its holder hears "expired" rather than "not
yours"); ``visited`` (``,pool,pool,``: the pools it sat in); ``step`` (escalation
steps used up); ``outcome``, ``completed_at``, ``completed_by``.

States: ``assigned`` (queued in its pool's backlog), ``leased``, ``accepted``,
``completed``. Times come from the Redis server clock, so replicas with skewed
clocks agree on when a lease expired. Numbers are written with ``%d`` because Lua
would print large ones in exponent form.
"""

from __future__ import annotations

_PRELUDE = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function int(x) return string.format('%d', x) end

local function is_open(state) return state == 'leased' or state == 'accepted' end

local function visited(key, pool)
  local seen = redis.call('HGET', key, 'visited')
  if not seen then seen = ',' .. (redis.call('HGET', key, 'pool') or '') .. ',' end
  return string.find(seen, ',' .. pool .. ',', 1, true) ~= nil
end

-- The ticket as pool `pool` may see it: 'missing', 'moved' (and where to) or its state.
-- A ticket that never sat in `pool` reads as missing: its agents learn nothing of it.
local function locate(key, pool)
  local state = redis.call('HGET', key, 'state')
  if not state or state == 'claimed' then return 'missing', false end
  local at = redis.call('HGET', key, 'pool')
  if at ~= pool then
    if visited(key, pool) then return 'moved', at end
    return 'missing', false
  end
  return state, at
end

-- {'ok', state} when `lease_id` holds the ticket now, else why not.
local function holder(key, pool, lease_id, now)
  local state, at = locate(key, pool)
  if state == 'missing' then return {'missing'} end
  if state == 'moved' then return {'moved', at} end
  if not is_open(state) or redis.call('HGET', key, 'lease_id') ~= lease_id then
    if redis.call('HGET', key, 'prev_lease') == lease_id then
      return {'ended', redis.call('HGET', key, 'prev_end')}
    end
    if is_open(state) then return {'not_yours'} end
    return {'state', state}
  end
  if tonumber(redis.call('HGET', key, 'lease_until')) <= now then return {'expired'} end
  return {'ok', state}
end

local function grant(key, leases, esc, tid, agent, lease_id, lease_ms, now)
  local until_ms = now + tonumber(lease_ms)
  redis.call('HSET', key, 'state', 'leased', 'agent', agent, 'lease_id', lease_id,
             'lease_until', int(until_ms), 'lease_ms', lease_ms, 'leased_at', int(now))
  redis.call('HDEL', key, 'accepted_at')
  redis.call('ZADD', leases, int(until_ms), tid)
  -- The record step scheduled it; 0 = "schedule me" (the sweeper works out when the
  -- next step is due) for one that lacks an entry (recorded by an older version).
  redis.call('ZADD', esc, 'NX', 0, tid)
  return until_ms
end

local function end_lease(key, leases, tid, why)
  local lid = redis.call('HGET', key, 'lease_id')
  if lid then redis.call('HSET', key, 'prev_lease', lid, 'prev_end', why) end
  redis.call('HDEL', key, 'agent', 'lease_id', 'lease_until', 'lease_ms', 'leased_at',
             'accepted_at')
  redis.call('ZREM', leases, tid)
end

local function requeue(key, backlog, tid)
  redis.call('HSET', key, 'state', 'assigned')
  redis.call('ZADD', backlog, redis.call('HGET', key, 'score') or '0', tid)
end

local function decr_floor(counter)
  if tonumber(redis.call('GET', counter) or '0') > 0 then redis.call('DECR', counter) end
end
"""

# KEYS backlog, leases, escalations; ARGV pool, agent, lease id, lease ms, capacity,
# ticket key prefix. -> {'leased', id, until, record} | {'full', open} | {'empty', open}
PULL = (
    _PRELUDE
    + """
local now = now_ms()
local open = redis.call('ZCARD', KEYS[2])
if open >= tonumber(ARGV[5]) then return {'full', open} end
for _ = 1, 100 do
  local popped = redis.call('ZPOPMIN', KEYS[1])
  if #popped == 0 then return {'empty', open} end
  local tid = popped[1]
  local key = ARGV[6] .. tid
  if redis.call('HGET', key, 'state') == 'assigned'
     and redis.call('HGET', key, 'pool') == ARGV[1] then
    local until_ms = grant(key, KEYS[2], KEYS[3], tid, ARGV[2], ARGV[3], ARGV[4], now)
    return {'leased', tid, until_ms, redis.call('HGET', key, 'record')}
  end
  -- A stale entry (the ticket is elsewhere now): dropping it is the repair.
end
return {'empty', open}
"""
)

# KEYS ticket, backlog, leases, escalations; ARGV pool, agent, lease id, lease ms,
# capacity, ticket id. Same agent again: the lease it holds (a retried claim).
CLAIM = (
    _PRELUDE
    + """
local now = now_ms()
local state, at = locate(KEYS[1], ARGV[1])
if state == 'missing' then return {'missing'} end
if state == 'moved' then return {'moved', at} end
if is_open(state) then
  local until_ms = tonumber(redis.call('HGET', KEYS[1], 'lease_until'))
  if redis.call('HGET', KEYS[1], 'agent') == ARGV[2] and until_ms > now then
    return {'leased', redis.call('HGET', KEYS[1], 'lease_id'), until_ms,
            redis.call('HGET', KEYS[1], 'record')}
  end
  return {'taken'}
end
if state ~= 'assigned' then return {'state', state} end
local open = redis.call('ZCARD', KEYS[3])
if open >= tonumber(ARGV[5]) then return {'full', open} end
redis.call('ZREM', KEYS[2], ARGV[6])
local until_ms = grant(KEYS[1], KEYS[3], KEYS[4], ARGV[6], ARGV[2], ARGV[3], ARGV[4], now)
return {'leased', ARGV[3], until_ms, redis.call('HGET', KEYS[1], 'record')}
"""
)

# KEYS ticket, backlog, leases, escalations, load; ARGV action, pool, ticket id,
# lease id, argument (outcome, reason or extension ms).
# -> {'ok', state, until ms, record} | the holder's refusal.
ACT = (
    _PRELUDE
    + """
local now = now_ms()
local key, tid, action = KEYS[1], ARGV[3], ARGV[1]
local h = holder(key, ARGV[2], ARGV[4], now)
if action == 'complete' and h[1] == 'ended' and h[2] == 'completed' then
  return {'ok', 'completed', 0, false}
end
if h[1] ~= 'ok' then return h end
local state = h[2]
local until_ms = tonumber(redis.call('HGET', key, 'lease_until'))
if action == 'check' then
  return {'ok', state, until_ms, redis.call('HGET', key, 'record'),
          redis.call('HGET', key, 'agent')}
end
if action == 'accept' then
  if state == 'leased' then
    until_ms = now + tonumber(redis.call('HGET', key, 'lease_ms'))
    redis.call('HSET', key, 'state', 'accepted', 'accepted_at', int(now),
               'lease_until', int(until_ms))
    redis.call('ZADD', KEYS[3], int(until_ms), tid)
    -- Accepted in time: the escalation steps no longer apply.
    redis.call('ZREM', KEYS[4], tid)
  end
  return {'ok', 'accepted', until_ms, false}
end
if action == 'extend' then
  until_ms = math.max(until_ms, now + tonumber(ARGV[5]))
  redis.call('HSET', key, 'lease_until', int(until_ms))
  redis.call('ZADD', KEYS[3], int(until_ms), tid)
  return {'ok', state, until_ms, false}
end
if action == 'complete' then
  redis.call('HSET', key, 'completed_by', redis.call('HGET', key, 'agent'))
  end_lease(key, KEYS[3], tid, 'completed')
  redis.call('HSET', key, 'state', 'completed', 'completed_at', int(now), 'outcome', ARGV[5])
  redis.call('ZREM', KEYS[4], tid)
  decr_floor(KEYS[5])
  return {'ok', 'completed', 0, false}
end
if action == 'release' then
  end_lease(key, KEYS[3], tid, 'released')
  requeue(key, KEYS[2], tid)
  redis.call('HSET', key, 'release_reason', ARGV[5])
  redis.call('HINCRBY', key, 'releases', 1)
  return {'ok', 'assigned', 0, false}
end
return redis.error_reply('unknown lease action ' .. action)
"""
)

# KEYS ticket, old backlog, old leases, new backlog, old load, new load, escalations;
# ARGV mode ('lease' | 'sla'), old pool, ticket id, lease id (lease) or steps used
# (sla), new pool, new record, new steps used, why the lease ends.
# Mode 'lease': the caller's lease must hold the ticket; it ends and the ticket is
# queued in the new pool (the same pool too). Mode 'sla': the ticket must still be
# unaccepted in the old pool with the same steps used; a lease ends only if the
# ticket changes pool. -> {'ok', previous state} | {'stale'} | the holder's refusal.
MOVE = (
    _PRELUDE
    + """
local now = now_ms()
local key, tid, old, new = KEYS[1], ARGV[3], ARGV[2], ARGV[5]
local state = redis.call('HGET', key, 'state')
if ARGV[1] == 'lease' then
  local h = holder(key, old, ARGV[4], now)
  if h[1] ~= 'ok' then return h end
elseif (state ~= 'assigned' and state ~= 'leased') or redis.call('HGET', key, 'pool') ~= old
       or (redis.call('HGET', key, 'step') or '0') ~= ARGV[4] then
  return {'stale'}
end
redis.call('HSET', key, 'record', ARGV[6], 'step', ARGV[7])
if new ~= old or ARGV[1] == 'lease' then
  if is_open(state) then end_lease(key, KEYS[3], tid, ARGV[8]) end
  redis.call('ZREM', KEYS[2], tid)
  local seen = redis.call('HGET', key, 'visited') or (',' .. old .. ',')
  if not string.find(seen, ',' .. new .. ',', 1, true) then seen = seen .. new .. ',' end
  redis.call('HSET', key, 'pool', new, 'visited', seen)
  requeue(key, KEYS[4], tid)
  if new ~= old then
    decr_floor(KEYS[5])
    redis.call('INCR', KEYS[6])
  end
end
redis.call('ZADD', KEYS[7], 0, tid)
return {'ok', state}
"""
)

# KEYS leases, backlog; ARGV pool, ticket key prefix, limit. -> ids returned to the backlog.
EXPIRE = (
    _PRELUDE
    + """
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', int(now), 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, tid in ipairs(due) do
  local key = ARGV[2] .. tid
  local state = redis.call('HGET', key, 'state')
  if is_open(state) and redis.call('HGET', key, 'pool') == ARGV[1] then
    local until_ms = tonumber(redis.call('HGET', key, 'lease_until'))
    if until_ms <= now then
      end_lease(key, KEYS[1], tid, 'expired')
      requeue(key, KEYS[2], tid)
      out[#out + 1] = tid
    else
      redis.call('ZADD', KEYS[1], int(until_ms), tid)
    end
  else
    redis.call('ZREM', KEYS[1], tid)
  end
end
return out
"""
)

# KEYS backlog, escalations. Queued tickets the escalation schedule does not know: the
# record step schedules every ticket it queues, so these are the ones released after
# acceptance and those recorded by an older version without an entry. -> how many.
DISCOVER = """
local ids = redis.call('ZDIFF', 2, KEYS[1], KEYS[2])
for _, tid in ipairs(ids) do redis.call('ZADD', KEYS[2], 'NX', 0, tid) end
return #ids
"""

# KEYS ticket, escalations; ARGV ticket id, steps used, score. Sets when to look at the
# ticket next, unless it moved on meanwhile. -> 1 set, 0 not (dropped if accepted/done).
RESCHEDULE = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'assigned' and state ~= 'leased' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
if (redis.call('HGET', KEYS[1], 'step') or '0') ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
"""
