"""Budgets (spending limits in pico-USD over calendar periods): pure rules, no I/O.

Each counter is named by the start of its period (`omg_common.periods`): a new period is
simply a new counter, so a reset needs no job.

A request is admitted only if its estimated cost fits every budget that applies to it (its
key's, its member's and its tenant's); then all their counters grow by the estimate together
(reserve), and the real cost replaces the estimate after the response (settle).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ext_proc import errors
from omg_common.money import pico_to_usd
from omg_common.periods import period_of


@dataclass(frozen=True, slots=True)
class BudgetRule:
    id: str
    tenant_id: str
    scope: str  # "tenant", "user" or "key"
    subject_id: str
    limit_pico: int
    period: str
    timezone: str
    override_limit_pico: int = 0
    override_expires_at_ms: int = 0
    seed_spent_pico: int = 0
    seed_period_start_ms: int = 0

    def limit_at(self, now_ms: int) -> int:
        """The limit in force: an unexpired override replaces the budget's own."""
        if self.override_expires_at_ms > now_ms:
            return self.override_limit_pico
        return self.limit_pico


@dataclass(frozen=True, slots=True)
class BudgetCheck:
    """One budget as one reservation sees it."""

    rule: BudgetRule
    counter: str
    limit_pico: int
    seed_pico: int  # where a counter that does not exist yet starts
    ttl_s: int  # how long the counter is kept (0: forever)


def counter_name(rule: BudgetRule, period_start_ms: int) -> str:
    # Hash tag: a tenant's budget counters share one Redis Cluster slot (one script).
    return f"omg:bg:{{{rule.tenant_id}}}:{rule.id}:{period_start_ms}"


def check_for(rule: BudgetRule, now_ms: int) -> BudgetCheck:
    period = period_of(rule.period, rule.timezone, now_ms)
    seed = rule.seed_spent_pico if rule.seed_period_start_ms == period.start_ms else 0
    ttl_s = 0 if not period.end_ms else (period.end_ms - now_ms) // 1000 + 86_400
    return BudgetCheck(rule, counter_name(rule, period.start_ms), rule.limit_at(now_ms), seed,
                       ttl_s)


def fits(limit_pico: int, spent_pico: int, estimate_pico: int) -> bool:
    """An exhausted budget refuses even a free request; otherwise the estimate must fit."""
    return spent_pico < limit_pico and spent_pico + estimate_pico <= limit_pico


def admit(checks: Sequence[BudgetCheck], spent: Sequence[int], estimate_pico: int) -> bool:
    """The Lua script in `budget_store.py` is this function, run inside Redis."""
    return all(fits(c.limit_pico, s, estimate_pico) for c, s in zip(checks, spent, strict=True))


@dataclass(frozen=True, slots=True)
class BudgetExceeded(errors.GatewayError):
    budget_id: str = ""  # kept on the usage record: the control plane alerts on it


def rejection(checks: Sequence[BudgetCheck], spent: Sequence[int],
              estimate_pico: int) -> errors.GatewayError:
    """429 `budget_exceeded` naming the first budget the request does not fit."""
    for check, used in zip(checks, spent, strict=True):
        if not fits(check.limit_pico, used, estimate_pico):
            rule = check.rule
            message = (
                f"Budget exceeded for {rule.scope} {rule.subject_id}: {rule.period} limit "
                f"${pico_to_usd(check.limit_pico)}, spent ${pico_to_usd(used)}, this request "
                f"may cost up to ${pico_to_usd(estimate_pico)}."
            )
            return BudgetExceeded(429, message, "insufficient_quota", "budget_exceeded",
                                  budget_id=rule.id)
    raise ValueError("the reservation was refused but every budget fits")
