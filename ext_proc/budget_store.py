"""Where budget counters live: process memory (embedded) or Redis (shared by replicas).

Each counter is one integer of pico-USD: spent plus reserved in one period. `reserve` checks
every budget of a request and adds the estimate to all of them in one atomic step (one Lua
script, one round trip); a counter that does not exist yet starts from the seed the control
plane computed from the usage records. Redis keeps amounts as exact 64-bit integers: the
script compares as Lua numbers (doubles, exact below $9,007) but adds with INCRBY on the
decimal strings, so spend stays exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import redis.asyncio as redis
from redis.exceptions import RedisError

from ext_proc.budget import BudgetCheck, admit
from ext_proc.counters import CountersUnavailable


class BudgetStore(Protocol):
    async def reserve(
        self, checks: Sequence[BudgetCheck], estimate_pico: int
    ) -> tuple[bool, list[int]]:
        """Whether the request was admitted, and each counter before it."""
        ...

    async def settle(self, counters: Sequence[str], delta_pico: int) -> None: ...

    async def spent(self, counter: str) -> int | None: ...

    async def close(self) -> None: ...


class MemoryBudgetStore:
    """One process's counters; spend survives a restart through the control plane's seeds."""

    def __init__(self) -> None:
        self._spent: dict[str, int] = {}

    async def reserve(
        self, checks: Sequence[BudgetCheck], estimate_pico: int
    ) -> tuple[bool, list[int]]:
        # No await in here: on one event loop the check and the increment are atomic.
        before = [self._spent.get(c.counter, c.seed_pico) for c in checks]
        admitted = admit(checks, before, estimate_pico)
        if admitted:
            for check, spent in zip(checks, before, strict=True):
                self._spent[check.counter] = spent + estimate_pico
        return admitted, before

    async def settle(self, counters: Sequence[str], delta_pico: int) -> None:
        for counter in counters:
            if counter in self._spent:
                self._spent[counter] += delta_pico

    async def spent(self, counter: str) -> int | None:
        return self._spent.get(counter)

    async def close(self) -> None:
        self._spent.clear()


# KEYS: counters. ARGV: estimate, then (limit, seed, ttl seconds) per key.
# Returns {admitted, before_1, before_2, ...} with amounts as decimal strings.
RESERVE_LUA = """
local estimate = tonumber(ARGV[1])
local out = {1}
for i, key in ipairs(KEYS) do
  local base = 2 + 3 * (i - 1)
  local spent = redis.call('GET', key)
  if not spent then
    spent = ARGV[base + 1]
    redis.call('SET', key, spent)
    local ttl = tonumber(ARGV[base + 2])
    if ttl > 0 then redis.call('EXPIRE', key, ttl) end
  end
  out[i + 1] = spent
  local used, limit = tonumber(spent), tonumber(ARGV[base])
  if not (used < limit and used + estimate <= limit) then out[1] = 0 end
end
if out[1] == 1 then
  for _, key in ipairs(KEYS) do redis.call('INCRBY', key, ARGV[1]) end
end
return out
"""

# KEYS: counters of one reservation. ARGV: the difference. A counter gone (its period ended
# long ago) is left alone.
SETTLE_LUA = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('INCRBY', key, ARGV[1]) end
end
return 0
"""


def reserve_args(checks: Sequence[BudgetCheck], estimate_pico: int) -> list[int]:
    args = [estimate_pico]
    for check in checks:
        args += [check.limit_pico, check.seed_pico, check.ttl_s]
    return args


class RedisBudgetStore:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._reserve = client.register_script(RESERVE_LUA)
        self._settle = client.register_script(SETTLE_LUA)

    async def reserve(
        self, checks: Sequence[BudgetCheck], estimate_pico: int
    ) -> tuple[bool, list[int]]:
        try:
            reply = await self._reserve(keys=[c.counter for c in checks],
                                        args=reserve_args(checks, estimate_pico))
        except (RedisError, OSError) as exc:
            raise CountersUnavailable(str(exc) or type(exc).__name__) from exc
        values = [int(v) for v in reply]
        return values[0] == 1, values[1:]

    async def settle(self, counters: Sequence[str], delta_pico: int) -> None:
        try:
            await self._settle(keys=list(counters), args=[delta_pico])
        except (RedisError, OSError) as exc:
            raise CountersUnavailable(str(exc) or type(exc).__name__) from exc

    async def spent(self, counter: str) -> int | None:
        try:
            value = await self._client.get(counter)
        except (RedisError, OSError) as exc:
            raise CountersUnavailable(str(exc) or type(exc).__name__) from exc
        return None if value is None else int(value)

    async def close(self) -> None:
        await self._client.aclose()
