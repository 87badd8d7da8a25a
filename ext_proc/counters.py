"""Where rate-limit counters live: process memory (embedded, one node) or Redis (shared).

Both answer `reserve` with an `Admission` computed by the same rule (`ratelimit.admit`); in
Redis that rule is a Lua script, so check-and-increment of the key's and the tenant's counters
is one atomic step and one round trip, whichever replica asks. Each counter is a hash
{w: window, req: requests, tok: tokens}; a hash holding an older window counts as empty, so
no key names depend on the clock and no cleanup job is needed (counters also expire).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from ext_proc.ratelimit import WINDOW_MS, Admission, LimitPlan, WindowUse, admit, window_of


class CountersUnavailable(Exception):
    """The shared counter store could not answer (down, slow, or refusing)."""


class Counters(Protocol):
    async def reserve(self, plan: LimitPlan, tokens: int) -> Admission: ...

    async def settle(self, plan: LimitPlan, window: int, tokens_delta: int) -> None: ...

    async def close(self) -> None: ...


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class MemoryCounters:
    """One process's counters: exact for a single ext_proc, not shared between replicas."""

    def __init__(self, clock_ms: Callable[[], int] = wall_clock_ms) -> None:
        self._clock_ms = clock_ms
        self._counters: dict[str, tuple[int, WindowUse]] = {}

    def _use(self, counter: str, window: int) -> WindowUse:
        stored = self._counters.get(counter)
        return stored[1] if stored is not None and stored[0] == window else WindowUse()

    async def reserve(self, plan: LimitPlan, tokens: int) -> Admission:
        # No await in here: on one event loop the check and the increment are atomic.
        window, reset_ms = window_of(self._clock_ms())
        used = [self._use(c, window) for c in plan.counters]
        admission = admit(plan, used, tokens, window, reset_ms)
        if admission.admitted:
            for counter, use in zip(plan.counters, admission.used, strict=True):
                self._counters[counter] = (window, use)
        return admission

    async def settle(self, plan: LimitPlan, window: int, tokens_delta: int) -> None:
        for counter in plan.counters:
            stored = self._counters.get(counter)
            if stored is not None and stored[0] == window:
                use = stored[1]
                self._counters[counter] = (window, WindowUse(use.requests,
                                                             use.tokens + tokens_delta))

    async def close(self) -> None:
        self._counters.clear()


# KEYS: counter hashes. ARGV: window ms, tokens, then (rpm, tpm) per key; 0 is no limit.
# Returns {admitted, window, reset ms, requests_1, tokens_1, requests_2, tokens_2, ...}:
# each counter's use after the request if admitted, before it if refused.
RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local span = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local window = math.floor(now / span)
local out = {1, window, (window + 1) * span - now}
local used = {}
for i, key in ipairs(KEYS) do
  local h = redis.call('HMGET', key, 'w', 'req', 'tok')
  local req, tok = 0, 0
  if tonumber(h[1]) == window then
    req = tonumber(h[2]) or 0
    tok = tonumber(h[3]) or 0
  end
  used[i] = {req, tok}
  local rpm, tpm = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  if (rpm > 0 and req + 1 > rpm) or (tpm > 0 and tok + tokens > tpm) then out[1] = 0 end
end
for i, key in ipairs(KEYS) do
  if out[1] == 1 then
    used[i] = {used[i][1] + 1, used[i][2] + tokens}
    redis.call('HSET', key, 'w', window, 'req', used[i][1], 'tok', used[i][2])
    redis.call('PEXPIRE', key, 2 * span)
  end
  out[#out + 1] = used[i][1]
  out[#out + 1] = used[i][2]
end
return out
"""

# KEYS: counter hashes. ARGV: the window of the reservation, the token difference. A window
# that has ended is left alone: its count no longer limits anyone.
SETTLE_LUA = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('HGET', key, 'w')) == tonumber(ARGV[1]) then
    redis.call('HINCRBY', key, 'tok', ARGV[2])
  end
end
return 0
"""


def reserve_args(plan: LimitPlan, tokens: int) -> list[int]:
    args = [WINDOW_MS, tokens]
    for scope in plan.scopes:
        args += [scope.rpm, scope.tpm]
    return args


def admission_from_reply(reply: list[int]) -> Admission:
    values = [int(v) for v in reply]
    pairs = values[3:]
    used = tuple(WindowUse(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2))
    return Admission(values[0] == 1, values[1], values[2], used)


MAX_REDIS_CONNECTIONS = 256


def redis_client(url: str, timeout_s: float) -> redis.Redis:
    """Short timeouts and no retries: a slow or absent Redis must not hold requests.

    A burst beyond the pool waits (up to the timeout) for a connection instead of failing at
    once with "Too many connections", as redis-py's default pool (100, then errors) does: 200
    requests at once on one ext_proc, each with a rate-limit and a budget call, exceed 100.
    """
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=MAX_REDIS_CONNECTIONS, timeout=timeout_s,
        socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0), health_check_interval=0,
    )
    return redis.Redis(connection_pool=pool)


class RedisCounters:
    """Counters shared by every ext_proc of every Envoy: exact across replicas."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._reserve = client.register_script(RESERVE_LUA)
        self._settle = client.register_script(SETTLE_LUA)

    async def reserve(self, plan: LimitPlan, tokens: int) -> Admission:
        try:
            reply = await self._reserve(keys=list(plan.counters),
                                        args=reserve_args(plan, tokens))
        except (RedisError, OSError) as exc:
            raise CountersUnavailable(str(exc) or type(exc).__name__) from exc
        return admission_from_reply(reply)

    async def settle(self, plan: LimitPlan, window: int, tokens_delta: int) -> None:
        try:
            await self._settle(keys=list(plan.counters), args=[window, tokens_delta])
        except (RedisError, OSError) as exc:
            raise CountersUnavailable(str(exc) or type(exc).__name__) from exc

    async def close(self) -> None:
        await self._client.aclose()
