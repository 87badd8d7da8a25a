"""The provider list is stated once for the API and once for the data plane: keep them equal."""

from __future__ import annotations

from typing import get_args

from control_plane.api.schemas import Provider
from ext_proc.credentials.schemes import SCHEMES
from omg_common.providers import PROVIDERS, is_translated


def test_api_accepts_exactly_the_known_providers() -> None:
    assert get_args(Provider) == PROVIDERS


def test_every_provider_has_a_credential_scheme() -> None:
    assert set(SCHEMES) == set(PROVIDERS)


def test_only_openai_is_passthrough() -> None:
    assert [p for p in PROVIDERS if not is_translated(p)] == ["openai"]
