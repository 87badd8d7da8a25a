"""Key policies: the limits an admin sets on a tenant's keys, or on one user's keys in it.

Pure. A key created or changed under a policy may not exceed it; what the caller leaves out
defaults to the policy's cap, so "no limit asked" never means "more than allowed".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class PolicyViolation(PermissionError):
    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class KeyLimits:
    max_rpm: int | None = None
    max_tpm: int | None = None
    allowed_models: frozenset[str] | None = None  # None: every model


@dataclass(frozen=True)
class KeyTerms:
    rpm_limit: int | None
    tpm_limit: int | None
    allowed_models: Sequence[str]


def _min(values: Iterable[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def combine(policies: Sequence[KeyLimits]) -> KeyLimits:
    """The strictest of several policies (a tenant's and a user's)."""
    model_sets = [p.allowed_models for p in policies if p.allowed_models is not None]
    models = frozenset.intersection(*model_sets) if model_sets else None
    return KeyLimits(_min(p.max_rpm for p in policies), _min(p.max_tpm for p in policies), models)


def _capped(param: str, value: int | None, cap: int | None) -> int | None:
    if cap is None:
        return value
    if value is None:
        return cap
    if value > cap:
        raise PolicyViolation(f"{param} {value} exceeds the limit of {cap} set by an admin",
                              param)
    return value


def _models(requested: Sequence[str], allowed: frozenset[str] | None) -> list[str]:
    if allowed is None:
        return list(requested)
    if not requested:
        return sorted(allowed)
    extra = sorted(set(requested) - allowed)
    if extra:
        raise PolicyViolation(
            f"allowed_models may only name {sorted(allowed)}; not allowed: {extra}",
            "allowed_models",
        )
    return list(requested)


def enforce(terms: KeyTerms, limits: KeyLimits) -> KeyTerms:
    return KeyTerms(
        rpm_limit=_capped("rpm_limit", terms.rpm_limit, limits.max_rpm),
        tpm_limit=_capped("tpm_limit", terms.tpm_limit, limits.max_tpm),
        allowed_models=_models(terms.allowed_models, limits.allowed_models),
    )


def check_capacity(max_keys: int | None, active_keys: int, whose: str) -> None:
    if max_keys is not None and active_keys >= max_keys:
        raise PolicyViolation(
            f"{whose} already has {active_keys} active keys; the limit set by an admin is "
            f"{max_keys}", "max_keys",
        )
