"""The window log of a shared budget, kept in Redis and changed by one Lua script.

`bulkops.api.shared_budget` explains the design; this module holds the keys, the script and
`RedisWindowLog`, which calls it (one `EVALSHA` = one round trip) and reads its replies.

Keys of project P (the `{P}` hash tag keeps them in one Redis Cluster slot):

    NS:{P}:log      ZSET  member "OWNER/SEQ", score = release time (µs, server clock);
                          +inf while in flight
    NS:{P}:beats    HASH  OWNER -> heartbeat deadline (µs): last call + the owner's TTL
    NS:{P}:pause    STRING paused-until (µs), expires with the pause
    NS:{P}:backoff  HASH  "COUNT/SPAN_US" -> "LOWERED/SINCE_US" after a 429
    NS:{P}:wake     pub/sub channel: a release happened (payload: the releasing OWNER)

Every time is the Redis server's (`TIME`), in integer microseconds: exact in a Lua number and
in a sorted-set score, and the same for every host whatever their clocks say.

What each call does (after refreshing the caller's heartbeat, ending the in-flight entries of
owners whose deadline passed at that deadline, and dropping what no window counts):

- `acquire`: unless paused, check every window (cap: limit less margin and back-off) and
  record up to `want` sends at once (score +inf: in flight), returning how many; else return
  the wait until one fits, and whether only a release can end it (sends in flight fill a
  window: `blocked`; the wait is then the next heartbeat deadline of another owner);
- `release`: end the given entries now (they count one span more), drop the forgotten ones
  (cancelled before they left), announce it on the wake channel;
- `pause`: lower the fullest window's cap to 90 % of what it held (recovering 10 % of its
  limit per span, as `bulkops.api.windows` does) and, with a Retry-After (or when none of
  the window is ours), set the pause key, never beyond `max_pause`;
- `beat`: return the log (release times, in flight), the pause and the back-offs;
- `retire`: end this owner's entries in flight now, and drop its heartbeat;
- `seed`: only when the log is empty (a restarted Redis, or runs made without it): record
  sends answered the given ages ago (what this process's state dir sent lately).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bulkops.api.errors import ConfigError
from bulkops.api.limits import MutationLimit
from bulkops.api.windows import BACKOFF_FACTOR, RECOVERY_STEP

__all__ = [
    "SCRIPT",
    "Admission",
    "BudgetKeys",
    "PauseOutcome",
    "RedisWindowLog",
    "Snapshot",
]

_US = 1_000_000

# Every call: refresh the caller's heartbeat, treat the in-flight entries of owners whose
# heartbeat deadline passed as released at that deadline, drop what no window counts, then
# the operation. ARGV: op, owner, ttl_us, channel, nwin, (count, cap, span_us) * nwin, extra.
SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local LOG, BEATS, PAUSE, BACKOFF = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, owner, ttl, channel = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local nwin = tonumber(ARGV[5])
local windows, max_span, min_span = {}, 0, math.huge
for i = 1, nwin do
  local b = 5 + 3 * (i - 1)
  local w = {count = tonumber(ARGV[b + 1]), cap = tonumber(ARGV[b + 2]),
             span = tonumber(ARGV[b + 3])}
  windows[i] = w
  if w.span > max_span then max_span = w.span end
  if w.span < min_span then min_span = w.span end
end
local extra = 6 + 3 * nwin
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function fmt(x) return string.format('%.0f', x) end
local keep = math.ceil((ttl + max_span) / 1000) + 1000

redis.call('HSET', BEATS, owner, fmt(now + ttl))
local beats = redis.call('HGETALL', BEATS)
local dead, any_dead, next_deadline = {}, false, math.huge
for i = 1, #beats, 2 do
  local deadline = tonumber(beats[i + 1])
  if deadline < now then
    dead[beats[i]] = deadline
    any_dead = true
  elseif beats[i] ~= owner and deadline < next_deadline then
    next_deadline = deadline
  end
end
if any_dead then
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', LOG, '+inf', '+inf')) do
    local d = dead[string.match(m, '^(.*)/')]
    if d then redis.call('ZADD', LOG, 'XX', fmt(d), m) end
  end
  for o in pairs(dead) do redis.call('HDEL', BEATS, o) end
end
redis.call('ZREMRANGEBYSCORE', LOG, '-inf', fmt(now - max_span))
redis.call('PEXPIRE', LOG, keep)
redis.call('PEXPIRE', BEATS, keep)

local function cap_of(w)
  local b = redis.call('HGET', BACKOFF, w.count .. '/' .. fmt(w.span))
  if not b then return w.cap, nil end
  local lowered, since = string.match(b, '^(%d+)/(%d+)$')
  lowered, since = tonumber(lowered), tonumber(since)
  local step = math.max(1, math.ceil(w.count * RECOVERY_STEP))
  local turns = 0
  if now > since then turns = math.floor((now - since) / w.span) end
  local cap = lowered + step * turns
  if cap >= w.cap then return w.cap, nil end
  return cap, since + (turns + 1) * w.span
end
local function count_in(w)
  return redis.call('ZCOUNT', LOG, '(' .. fmt(now - w.span), '+inf')
end
local function paused_until()
  return tonumber(redis.call('GET', PAUSE) or '0')
end

if op == 'acquire' then
  local first, want = tonumber(ARGV[extra]), tonumber(ARGV[extra + 1])
  local paused = paused_until()
  if paused > now then return {0, paused - now, now, 0, 1} end
  local flying = redis.call('ZCOUNT', LOG, '+inf', '+inf')
  local room, ready, blocked = want, now, 0
  for _, w in ipairs(windows) do
    local cap, cap_until = cap_of(w)
    local n = count_in(w)
    if cap - n < room then room = cap - n end
    if cap - n <= 0 then
      local must, at = n - cap + 1, math.huge
      if must <= n - flying then
        local e = redis.call('ZRANGEBYSCORE', LOG, '(' .. fmt(now - w.span), '+inf',
                             'WITHSCORES', 'LIMIT', must - 1, 1)
        at = tonumber(e[2]) + w.span
      end
      if cap_until and cap_until < at then at = cap_until end
      if at == math.huge then blocked = 1 end
      if at > ready then ready = at end
    end
  end
  if room >= 1 then
    for j = 0, room - 1 do
      redis.call('ZADD', LOG, '+inf', owner .. '/' .. fmt(first + j))
    end
    return {room, 0, now, 0, 0}
  end
  if ready == math.huge then ready = next_deadline end
  if ready == math.huge then return {0, -1, now, blocked, 0} end
  return {0, ready - now, now, blocked, 0}
elseif op == 'release' then
  local nrel, changed = tonumber(ARGV[extra]), 0
  for i = extra + 1, extra + nrel do
    local s = redis.call('ZSCORE', LOG, ARGV[i])
    if s and (s == 'inf' or s == '+inf' or tonumber(s) < now) then
      redis.call('ZADD', LOG, 'XX', fmt(now), ARGV[i])
      changed = changed + 1
    end
  end
  for i = extra + 1 + nrel, #ARGV do
    changed = changed + redis.call('ZREM', LOG, ARGV[i])
  end
  if changed > 0 then redis.call('PUBLISH', channel, owner) end
  return {now}
elseif op == 'pause' then
  local hint, max_pause = tonumber(ARGV[extra]), tonumber(ARGV[extra + 1])
  local best, best_full, best_n, best_cap
  for i, w in ipairs(windows) do
    local cap = cap_of(w)
    local n = count_in(w)
    local full = n / cap
    if best == nil or full > best_full
       or (full == best_full and w.span < windows[best].span) then
      best, best_full, best_n, best_cap = i, full, n, cap
    end
  end
  local w = windows[best]
  local lowered = math.max(1, math.min(best_cap - 1, math.floor((best_n - 1) * BACKOFF_FACTOR)))
  redis.call('HSET', BACKOFF, w.count .. '/' .. fmt(w.span), fmt(lowered) .. '/' .. fmt(now))
  redis.call('PEXPIRE', BACKOFF, math.ceil(max_span * 11 / 1000) + 1000)
  local till = 0
  if hint > 0 then
    till = now + math.min(hint, max_pause)
  elseif best_n == 0 then
    till = now + math.min(min_span, max_pause)
  end
  local current = paused_until()
  if till > current then
    redis.call('SET', PAUSE, fmt(till), 'PX', math.ceil((till - now) / 1000) + 1)
  else
    till = current
  end
  return {now, till, best - 1, lowered}
elseif op == 'beat' then
  local flying = redis.call('ZCOUNT', LOG, '+inf', '+inf')
  local released = redis.call('ZRANGEBYSCORE', LOG, '(' .. fmt(now - max_span), '(+inf',
                              'WITHSCORES')
  local scores = {}
  for i = 2, #released, 2 do scores[#scores + 1] = released[i] end
  local backoffs = {}
  for i, w in ipairs(windows) do
    backoffs[i] = redis.call('HGET', BACKOFF, w.count .. '/' .. fmt(w.span)) or ''
  end
  return {now, paused_until(), flying, redis.call('HLEN', BEATS), scores, backoffs}
elseif op == 'retire' then
  local prefix = owner .. '/'
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', LOG, '+inf', '+inf')) do
    if string.sub(m, 1, #prefix) == prefix then redis.call('ZADD', LOG, 'XX', fmt(now), m) end
  end
  redis.call('HDEL', BEATS, owner)
  redis.call('PUBLISH', channel, owner)
  return {now}
elseif op == 'seed' then
  if redis.call('EXISTS', LOG) == 1 then return {now, 0} end
  local n = 0
  for i = extra, #ARGV do
    local at = now - tonumber(ARGV[i])
    if at > now - max_span and at <= now then
      n = n + 1
      redis.call('ZADD', LOG, fmt(at), owner .. '/seed' .. n)
    end
  end
  if n > 0 then redis.call('PEXPIRE', LOG, keep) end
  return {now, n}
end
return redis.error_reply('unknown operation ' .. tostring(op))
""".replace("BACKOFF_FACTOR", repr(BACKOFF_FACTOR)).replace("RECOVERY_STEP", repr(RECOVERY_STEP))


@dataclass(frozen=True)
class BudgetKeys:
    """The Redis keys of one project's shared budget (see the module docstring)."""

    log: str
    beats: str
    pause: str
    backoff: str
    wake: str

    @classmethod
    def for_project(cls, namespace: str, project_id: str) -> BudgetKeys:
        """Keys under `namespace` for `project_id` (the project's id, never an API key)."""
        if not isinstance(project_id, str) or not project_id.strip():
            raise ConfigError("the shared budget needs the project's id (from GET /project)")
        if project_id.startswith(("console-", "secret-", "client-")):
            raise ConfigError(
                "the shared budget is keyed by project id, never by API key: pass the id that "
                "GET /project answers"
            )
        base = f"{namespace}:{{{project_id}}}"
        return cls(
            f"{base}:log", f"{base}:beats", f"{base}:pause", f"{base}:backoff", f"{base}:wake"
        )


@dataclass(frozen=True)
class Admission:
    """The answer to one admission: `admitted` sends recorded, or how long to wait."""

    admitted: int
    wait: float | None
    """Seconds until one more send can fit (0 when admitted; None: only a release can tell)."""
    server_now: float
    blocked: bool
    """True when sends in flight fill a window: a release (pub/sub) may end the wait early."""
    paused: bool


@dataclass(frozen=True)
class PauseOutcome:
    """What a 429 changed: the pause (server time, or None) and the lowered window."""

    server_now: float
    paused_until: float | None
    window: int
    lowered: int


@dataclass(frozen=True)
class Snapshot:
    """The shared log at one moment (server times, seconds), for `eta()` and statistics."""

    server_now: float
    paused_until: float | None
    in_flight: int
    processes: int
    releases: tuple[float, ...]
    backoff: tuple[tuple[int, float] | None, ...]


class RedisWindowLog:
    """Calls the script for one project and one owner; counts the round trips."""

    def __init__(
        self,
        redis: Any,
        keys: BudgetKeys,
        owner: str,
        limits: Sequence[MutationLimit],
        caps: Sequence[int],
        ttl: float,
    ) -> None:
        self._redis = redis
        self._keys = (keys.log, keys.beats, keys.pause, keys.backoff)
        self._owner = owner
        self._head: list[Any] = [owner, _micros(ttl), keys.wake, len(limits)]
        for (count, span), cap in zip(limits, caps, strict=True):
            self._head += [count, cap, _micros(span)]
        self._sha: str | None = None
        self.round_trips = 0

    async def load(self) -> None:
        """Load the script into Redis once (later calls use `EVALSHA`)."""
        self.round_trips += 1
        self._sha = await self._redis.script_load(SCRIPT)

    async def acquire(self, first: int, want: int) -> Admission:
        """Record up to `want` sends (ids `OWNER/first`, ...) if every window has room."""
        admitted, wait, now, blocked, paused = await self._call("acquire", first, want)
        return Admission(
            admitted=int(admitted),
            wait=None if wait < 0 else wait / _US,
            server_now=now / _US,
            blocked=bool(blocked),
            paused=bool(paused),
        )

    async def release(self, released: Sequence[str], forgotten: Sequence[str]) -> float:
        """End the `released` entries now (they count one span more); drop the `forgotten`."""
        (now,) = await self._call("release", len(released), *released, *forgotten)
        return float(now) / _US

    async def pause(self, retry_after: float | None, max_pause: float) -> PauseOutcome:
        """A 429: lower the fullest window and pause every owner (never beyond `max_pause`)."""
        hint = _micros(retry_after) if retry_after is not None and retry_after > 0 else -1
        now, till, window, lowered = await self._call("pause", hint, _micros(max_pause))
        return PauseOutcome(now / _US, till / _US if till > now else None, window, lowered)

    async def beat(self) -> Snapshot:
        """Refresh the heartbeat and read the log (release times, in flight, back-off)."""
        now, paused, flying, processes, scores, backoffs = await self._call("beat")
        return Snapshot(
            server_now=now / _US,
            paused_until=paused / _US if paused > now else None,
            in_flight=int(flying),
            processes=int(processes),
            releases=tuple(float(s) / _US for s in scores),
            backoff=tuple(_backoff(b) for b in backoffs),
        )

    async def seed(self, ages: Sequence[float]) -> int:
        """Into an empty log only: sends answered ``ages`` seconds ago; returns how many."""
        _, counted = await self._call("seed", *(_micros(age) for age in ages))
        return int(counted)

    async def retire(self) -> None:
        """This owner stops: its entries still in flight end now; its heartbeat goes."""
        await self._call("retire")

    async def _call(self, op: str, *extra: Any) -> list[Any]:
        from redis.exceptions import NoScriptError

        args = (op, *self._head, *extra)
        self.round_trips += 1
        try:
            reply = await self._redis.evalsha(self._sha, len(self._keys), *self._keys, *args)
        except NoScriptError:  # SCRIPT FLUSH by an operator: load it again, once
            await self.load()
            self.round_trips += 1
            reply = await self._redis.evalsha(self._sha, len(self._keys), *self._keys, *args)
        return list(reply)


def _micros(seconds: float) -> int:
    return max(0, round(seconds * _US))


def _backoff(value: bytes | str) -> tuple[int, float] | None:
    text = value.decode() if isinstance(value, bytes) else value
    if not text:
        return None
    lowered, since = text.split("/")
    return int(lowered), int(since) / _US
