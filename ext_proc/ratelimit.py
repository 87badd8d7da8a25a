"""Rate limits (requests and tokens per minute): pure decisions, no I/O.

Windows are fixed and aligned to the clock's minutes: window `w` covers
[w * 60 s, (w + 1) * 60 s). Every counter of every replica names the same window at the same
instant, so a shared store (Redis, where the clock is the server's own) gives an exact count
across replicas with one atomic check-and-increment. The price of a fixed window is that a
client can spend a full limit at the end of one minute and again at the start of the next.

A request is admitted only if it fits every limit that applies (the key's and its tenant's);
then, and only then, all counters move together. A refused request costs nothing. Tokens are
reserved from an estimate at request time and settled to the real count after the response.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ext_proc import errors

WINDOW_MS = 60_000
BYTES_PER_TOKEN = 4  # a cheap, conservative prompt size estimate: no tokenizer on the hot path
DEFAULT_COMPLETION_TOKENS = 256  # reserved when the request sets no max_tokens
NO_COMPLETION_ENDPOINTS = frozenset({"embeddings"})


@dataclass(frozen=True, slots=True)
class ScopeLimit:
    """The limits of one counter (a key's or a tenant's); 0 means no limit."""

    scope: str  # "key" or "tenant", for messages
    owner: str  # the key id or tenant id
    counter: str  # the counter's name in the store
    rpm: int
    tpm: int


@dataclass(frozen=True, slots=True)
class LimitPlan:
    """Every limit that applies to one key, compiled once per snapshot."""

    scopes: tuple[ScopeLimit, ...]

    @property
    def counters(self) -> tuple[str, ...]:
        return tuple(s.counter for s in self.scopes)

    @property
    def counts_tokens(self) -> bool:
        return any(s.tpm for s in self.scopes)


@dataclass(frozen=True, slots=True)
class WindowUse:
    requests: int = 0
    tokens: int = 0


@dataclass(frozen=True, slots=True)
class Admission:
    """What the counters answered: each scope's use after the request (before, if refused)."""

    admitted: bool
    window: int
    reset_ms: int
    used: tuple[WindowUse, ...]


@dataclass(frozen=True, slots=True)
class Quota:
    limit: int
    remaining: int


def counter_name(tenant_id: str, key_id: str | None) -> str:
    # The braces are a Redis Cluster hash tag: a tenant's counters share one slot, so one
    # script may touch the key's counter and the tenant's together.
    base = f"omg:rl:{{{tenant_id}}}"
    return f"{base}:t" if key_id is None else f"{base}:k:{key_id}"


def plan_for(
    key_id: str, tenant_id: str, key_limits: tuple[int, int], tenant_limits: tuple[int, int]
) -> LimitPlan | None:
    """The limits of a key and its tenant, or None when neither has any (the fast path)."""
    # A rotated key's old secret ("<id>:previous") shares the key's counter.
    base_id = key_id.partition(":")[0]
    scopes = []
    if any(key_limits):
        scopes.append(ScopeLimit("key", base_id, counter_name(tenant_id, base_id), *key_limits))
    if any(tenant_limits):
        scopes.append(ScopeLimit("tenant", tenant_id, counter_name(tenant_id, None),
                                 *tenant_limits))
    return LimitPlan(tuple(scopes)) if scopes else None


def _int_field(body: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def estimate_split(
    body_size: int, body: dict[str, Any], endpoint: str, default_completion: int
) -> tuple[int, int]:
    """(prompt bytes / 4, the completion the request may produce) in tokens."""
    prompt = math.ceil(body_size / BYTES_PER_TOKEN)
    if endpoint in NO_COMPLETION_ENDPOINTS:
        return prompt, 0
    completion = _int_field(body, "max_completion_tokens", "max_tokens")
    return prompt, default_completion if completion is None else completion


def estimate_tokens(body_size: int, body: dict[str, Any], endpoint: str) -> int:
    """Prompt bytes / 4 plus the completion the request may produce."""
    return sum(estimate_split(body_size, body, endpoint, DEFAULT_COMPLETION_TOKENS))


def window_of(now_ms: int) -> tuple[int, int]:
    """(window number, milliseconds until it ends)."""
    window = now_ms // WINDOW_MS
    return window, (window + 1) * WINDOW_MS - now_ms


def fits(limit: ScopeLimit, use: WindowUse, tokens: int) -> bool:
    if limit.rpm and use.requests + 1 > limit.rpm:
        return False
    return not (limit.tpm and use.tokens + tokens > limit.tpm)


def admit(
    plan: LimitPlan, used: Sequence[WindowUse], tokens: int, window: int, reset_ms: int
) -> Admission:
    """Check every scope, then count the request in all of them or in none.

    The Lua script in `counters.py` is this function, run inside Redis.
    """
    if not all(fits(limit, use, tokens) for limit, use in zip(plan.scopes, used, strict=True)):
        return Admission(False, window, reset_ms, tuple(used))
    after = tuple(WindowUse(u.requests + 1, u.tokens + tokens) for u in used)
    return Admission(True, window, reset_ms, after)


def settle_delta(reserved: int, actual: int | None) -> int:
    """What to add to the token counters once the real count is known (None: unknown)."""
    return 0 if actual is None else actual - reserved


def _tightest(plan: LimitPlan, used: Sequence[WindowUse], requests: bool) -> Quota | None:
    best: Quota | None = None
    for limit, use in zip(plan.scopes, used, strict=True):
        cap, spent = (limit.rpm, use.requests) if requests else (limit.tpm, use.tokens)
        if cap and (best is None or cap - spent < best.remaining):
            best = Quota(cap, max(cap - spent, 0))
    return best


def reset_text(ms: int) -> str:
    """A duration the way OpenAI writes it in x-ratelimit-reset-*: 20ms, 1.5s, 1m0s."""
    if ms < 1000:
        return f"{ms}ms"
    if ms < 60_000:
        return f"{ms / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes}m{rest // 1000}s"


def quota_headers(plan: LimitPlan, admission: Admission) -> tuple[tuple[str, str], ...]:
    """OpenAI's x-ratelimit-* headers, for the limits that apply (the tightest of each kind)."""
    headers: list[tuple[str, str]] = []
    reset = reset_text(admission.reset_ms)
    for kind, requests in (("requests", True), ("tokens", False)):
        quota = _tightest(plan, admission.used, requests)
        if quota is not None:
            headers += [(f"x-ratelimit-limit-{kind}", str(quota.limit)),
                        (f"x-ratelimit-remaining-{kind}", str(quota.remaining)),
                        (f"x-ratelimit-reset-{kind}", reset)]
    return tuple(headers)


def retry_after_seconds(reset_ms: int) -> int:
    return max(1, math.ceil(reset_ms / 1000))


def _breach(plan: LimitPlan, admission: Admission, tokens: int) -> tuple[ScopeLimit, str, int, int]:
    """(scope, "requests" or "tokens", limit, used) of the first limit the request exceeds."""
    for limit, use in zip(plan.scopes, admission.used, strict=True):
        if limit.rpm and use.requests + 1 > limit.rpm:
            return limit, "requests", limit.rpm, use.requests
        if limit.tpm and use.tokens + tokens > limit.tpm:
            return limit, "tokens", limit.tpm, use.tokens
    raise ValueError("the admission was refused but no limit is exceeded")


def rejection(plan: LimitPlan, admission: Admission, tokens: int) -> errors.GatewayError:
    """The 429 OpenAI sends: type "requests" or "tokens", code "rate_limit_exceeded"."""
    scope, kind, cap, spent = _breach(plan, admission, tokens)
    unit = "RPM" if kind == "requests" else "TPM"
    asked = 1 if kind == "requests" else tokens
    message = (
        f"Rate limit reached for {scope.scope} {scope.owner} on {kind} per min ({unit}): "
        f"Limit {cap}, Used {spent}, Requested {asked}. "
        f"Please try again in {reset_text(admission.reset_ms)}."
    )
    headers = (("retry-after", str(retry_after_seconds(admission.reset_ms))),
               *quota_headers(plan, admission))
    return errors.GatewayError(429, message, kind, "rate_limit_exceeded", headers=headers)
