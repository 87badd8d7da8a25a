"""Key policies bound the keys created under them (pure)."""

from __future__ import annotations

import pytest

from control_plane.key_policy import (
    KeyLimits,
    KeyTerms,
    PolicyViolation,
    check_capacity,
    combine,
    enforce,
)


def test_unset_limits_default_to_the_cap_and_higher_ones_are_refused() -> None:
    limits = KeyLimits(max_rpm=100, max_tpm=None, allowed_models=frozenset({"a", "b"}))
    terms = enforce(KeyTerms(None, 5000, []), limits)
    assert terms == KeyTerms(100, 5000, ["a", "b"])
    with pytest.raises(PolicyViolation) as info:
        enforce(KeyTerms(101, None, []), limits)
    assert info.value.param == "rpm_limit" and "100" in str(info.value)
    with pytest.raises(PolicyViolation) as info:
        enforce(KeyTerms(None, None, ["a", "c"]), limits)
    assert info.value.param == "allowed_models" and "'c'" in str(info.value)


def test_no_policy_changes_nothing() -> None:
    assert enforce(KeyTerms(None, None, ["x"]), KeyLimits()) == KeyTerms(None, None, ["x"])


def test_combine_takes_the_strictest() -> None:
    tenant = KeyLimits(max_rpm=100, max_tpm=1000, allowed_models=frozenset({"a", "b"}))
    user = KeyLimits(max_rpm=50, max_tpm=None, allowed_models=frozenset({"b", "c"}))
    assert combine([tenant, user]) == KeyLimits(50, 1000, frozenset({"b"}))
    assert combine([]) == KeyLimits()


def test_capacity() -> None:
    check_capacity(None, 99, "this user")
    check_capacity(3, 2, "this user")
    with pytest.raises(PolicyViolation, match="already has 3 active keys"):
        check_capacity(3, 3, "this user")
