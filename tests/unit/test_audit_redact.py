"""Audit snapshots never carry secrets (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from control_plane import models
from control_plane.audit import REDACTED, redact, snapshot


def test_secret_fields_are_redacted_at_any_depth() -> None:
    value = {"name": "k", "key_hash": "abc", "previous_key_hash": "def", "secret": "omg-x",
             "nested": [{"token_hash": "t", "api_key": "sk-1", "ok": 1}],
             "credential_encrypted": "gAAA", "api_key_env": "OPENAI_API_KEY",
             "at": datetime(2026, 1, 1, tzinfo=UTC), "empty_hash": None}
    assert redact(value) == {
        "name": "k", "key_hash": REDACTED, "previous_key_hash": REDACTED, "secret": REDACTED,
        "nested": [{"token_hash": REDACTED, "api_key": REDACTED, "ok": 1}],
        "credential_encrypted": REDACTED, "api_key_env": "OPENAI_API_KEY",
        "at": "2026-01-01T00:00:00+00:00", "empty_hash": None,
    }


def test_row_snapshots_of_keys_tokens_and_deployments_hold_no_secret() -> None:
    key = models.ApiKey(tenant_id="t", name="k", prefix="omg-abc", key_hash="h1",
                        previous_key_hash="h0")
    token = models.PersonalAccessToken(user_id="u", name="t", prefix="omga-", token_hash="h2")
    dep = models.Deployment(name="d", public_model="m", base_url="http://x",
                            credential_encrypted="gAAAA-secret")
    for row, secret in ((key, "h1"), (key, "h0"), (token, "h2"), (dep, "gAAAA-secret")):
        assert secret not in str(snapshot(row))
    assert snapshot(key)["prefix"] == "omg-abc"  # type: ignore[index]
