"""`omg apply` / `omg export`: parsing, env references, the plan, and the round trip (pure)."""

from __future__ import annotations

import pytest

from cli.config_file import ConfigError, dump_yaml, load_config
from cli.plan import plan, render_plan
from control_plane.crypto import fingerprint

FILE = """
models:
  - name: gpt-4o
    owned_by: openai
deployments:
  - name: openai-gpt-4o
    model: gpt-4o
    base_url: https://api.openai.com/v1/
    api_key: ${OPENAI_API_KEY}
    weight: 2
users:
  - name: alice
    email: ${ALICE_EMAIL}
tenants:
  - name: acme
memberships:
  - {tenant: acme, user: alice, role: admin}
  - {tenant: "personal:alice", user: alice, role: owner}
key_policies:
  - {tenant: acme, max_rpm: 100, allowed_models: [gpt-4o]}
  - {tenant: acme, user: alice, max_keys: 2}
"""
ENV = {"OPENAI_API_KEY": "sk-live-1", "ALICE_EMAIL": "alice@example.com"}


def test_load_expands_env_fills_defaults_and_keeps_secrets_out_of_fields() -> None:
    config = load_config(FILE, ENV)
    dep = config["deployments"]["openai-gpt-4o"]
    assert dep["base_url"] == "https://api.openai.com/v1" and dep["priority"] == 0
    assert dep["api_key_env"] == "OPENAI_API_KEY"
    assert dep["_fingerprint"] == fingerprint("sk-live-1")
    assert config["users"]["alice"]["email"] == "alice@example.com"
    assert set(config["memberships"]) == {"acme/alice"}  # personal ownership is implied
    assert set(config["key_policies"]) == {"acme", "acme/alice"}
    assert "sk-live-1" not in dump_yaml(config)


@pytest.mark.parametrize(("text", "message"), [
    ("models: [{name: a, colour: red}]", "models.0.colour: Extra inputs are not permitted"),
    ("users: [{name: a, email: '${NOPE}'}]", "users[0].email: environment variable NOPE"),
    ("tenants: [{name: a}, {name: a}]", "tenants: 'a' is declared twice"),
    ("- just a list", "the top level must be a mapping"),
    ("models: [", "not valid YAML"),
])
def test_load_errors_say_where_and_why(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("$", r"\$")):
        load_config(text, {})


def test_plan_creates_in_dependency_order_then_is_empty_once_applied() -> None:
    desired = load_config(FILE, ENV)
    empty = load_config("", {})
    changes = plan(desired, empty, prune=False)
    assert [(c.action, c.kind) for c in changes] == [
        ("create", "model"), ("create", "deployment"), ("create", "user"), ("create", "tenant"),
        ("create", "membership"), ("create", "key_policy"), ("create", "key_policy"),
    ]
    assert plan(desired, desired, prune=True) == []
    assert render_plan([]) == "No changes."


def test_plan_updates_fields_and_a_changed_credential_without_showing_it() -> None:
    current = load_config(FILE, ENV)
    desired = load_config(FILE.replace("weight: 2", "weight: 3"),
                          {**ENV, "OPENAI_API_KEY": "sk-live-2"})
    [change] = plan(desired, current, prune=False)
    assert change.action == "update" and change.fields == ("weight", "api_key")
    text = render_plan([change])
    assert "~ deployment openai-gpt-4o (weight: 2 -> 3, api_key: (changed))" in text
    assert "sk-live" not in text


def test_unset_credential_variable_keeps_an_existing_credential_but_cannot_create() -> None:
    current = load_config(FILE, ENV)
    desired = load_config(FILE, {"ALICE_EMAIL": "alice@example.com"})
    assert plan(desired, current, prune=False) == []
    with pytest.raises(ConfigError, match="OPENAI_API_KEY is not set"):
        plan(desired, load_config("", {}), prune=False)


def test_prune_deletes_undeclared_in_reverse_order_but_keeps_the_caller() -> None:
    current = load_config(FILE, ENV)
    desired = load_config("models: [{name: gpt-4o, owned_by: openai}]", {})
    deletes = plan(desired, current, prune=True, keep_users=["alice"])
    assert [(c.action, c.kind) for c in deletes] == [
        ("delete", "key_policy"), ("delete", "key_policy"), ("delete", "membership"),
        ("delete", "tenant"), ("delete", "deployment"),
    ]
    assert plan(desired, current, prune=False) == []
    assert "5 existing objects are not declared" in render_plan([], 5)


def test_export_then_load_is_a_fixed_point() -> None:
    current = load_config(FILE, ENV)
    exported = dump_yaml(current)
    assert "api_key: ${OPENAI_API_KEY}" in exported
    assert plan(load_config(exported, {}), current, prune=True) == []
    assert dump_yaml(load_config(exported, ENV)) == exported


def test_provider_options_are_declared_planned_and_exported() -> None:
    text = FILE.replace("    weight: 2\n", "    weight: 2\n    provider: azure\n"
                        "    options: {api_version: 2024-10-21, deployment: gpt4o-prod}\n")
    current = load_config(text, ENV)
    dep = current["deployments"]["openai-gpt-4o"]
    assert dep["provider"] == "azure"
    assert dep["options"] == {"api_version": "2024-10-21", "deployment": "gpt4o-prod"}
    changed = load_config(text.replace("gpt4o-prod", "gpt4o-canary"), ENV)
    [change] = plan(changed, current, prune=False)
    assert change.fields == ("options",)
    exported = dump_yaml(current)
    assert "deployment: gpt4o-prod" in exported
    assert plan(load_config(exported, ENV), current, prune=True) == []


ROUTING_FILE = """
models:
  - name: gpt-4o
    aliases: [gpt-4o-latest, default]
    retry_on: 5xx,reset
    num_retries: 1
deployments:
  - {name: primary, model: gpt-4o, base_url: "http://a/v1", context_window: 128000}
  - {name: backup, model: gpt-4o, base_url: "http://b/v1", priority: 1}
"""


def test_aliases_and_fail_over_settings_round_trip_and_plan() -> None:
    config = load_config(ROUTING_FILE, {})
    model = config["models"]["gpt-4o"]
    assert model["aliases"] == ["default", "gpt-4o-latest"]  # sorted: order is not a change
    assert (model["retry_on"], model["num_retries"]) == ("5xx,reset", 1)
    assert config["deployments"]["primary"]["context_window"] == 128000
    assert config["deployments"]["backup"]["context_window"] is None
    assert load_config(dump_yaml(config), {}) == config
    current = load_config(ROUTING_FILE.replace("num_retries: 1", "num_retries: 2"), {})
    [change] = plan(config, current, prune=False)
    assert (change.section, change.action, tuple(change.fields)) == ("models", "update",
                                                                     ("num_retries",))
