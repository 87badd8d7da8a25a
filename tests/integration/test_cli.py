"""The `omg` CLI against a running control plane: login, keys, roles, errors, help, and
`omg apply` -> `omg export` round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from cli.main import app
from tests.integration.conftest import Gateway

pytestmark = pytest.mark.integration
runner = CliRunner()


def omg(gateway: Gateway, home: Path, *args: str, token: str | None = None,
        stdin: str | None = None, **env: str) -> Result:
    environment = {"OMG_HOME": str(home), "OMG_ADMIN_URL": gateway.settings.admin_url,
                   "OMG_ADMIN_TOKEN": gateway.admin_token if token is None else token, **env}
    return runner.invoke(app, list(args), env=environment, input=stdin)


def test_login_whoami_personal_keys_logout(gateway: Gateway, tmp_path: Path) -> None:
    user = f"cli-frank-{gateway.backend}"
    assert omg(gateway, tmp_path, "users", "create", user).exit_code == 0
    issued = omg(gateway, tmp_path, "users", "token", user, "-o", "json")
    secret = json.loads(issued.stdout)["secret"]

    login = omg(gateway, tmp_path, "login", "--token", secret, token="")
    assert login.exit_code == 0, login.output
    saved = tmp_path / "cli.json"
    assert saved.stat().st_mode & 0o077 == 0 and json.loads(saved.read_text())["token"] == secret
    whoami = omg(gateway, tmp_path, "whoami", token="")
    assert whoami.exit_code == 0 and user in whoami.stdout

    created = omg(gateway, tmp_path, "keys", "create", "--name", "laptop", "-o", "json",
                  token="")
    key = json.loads(created.stdout)
    assert key["secret"].startswith("omg-")
    listed = omg(gateway, tmp_path, "keys", "list", token="")
    assert key["id"] in listed.stdout and key["secret"] not in listed.stdout
    assert omg(gateway, tmp_path, "keys", "revoke", key["id"], token="").exit_code == 0
    denied = omg(gateway, tmp_path, "tenants", "list", token="")
    assert denied.exit_code == 1
    assert denied.stderr.strip() == ("error: HTTP 403: permission 'tenants:read' is required "
                                     "for this operation")
    assert omg(gateway, tmp_path, "logout", token="").exit_code == 0
    assert not saved.exists()


@pytest.mark.parametrize(("args", "message"), [
    (("tenants", "get", "cli-nope"), "error: HTTP 404: tenant 'cli-nope' not found"),
    (("login", "--token", "omga-wrong"), "error: login failed: HTTP 401: A valid personal"),
    (("apply", "-f", "/nonexistent/gateway.yaml"), "error: cannot read /nonexistent"),
    (("keys", "create", "--tenant", "demo", "--name", "x", "--allowed-model", "cli-none"),
     "error: HTTP 422: allowed_models: unknown models: ['cli-none']"),
])
def test_errors_exit_1_with_one_line(
    gateway: Gateway, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = omg(gateway, tmp_path, *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr


def test_roles_list_shows_capabilities(gateway: Gateway, tmp_path: Path) -> None:
    result = omg(gateway, tmp_path, "roles", "list")
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert {"owner", "admin", "operator", "analyst", "support", "viewer"} <= set(lines)
    assert "keys:write" in lines["operator"] and "keys:write" not in lines["analyst"]


def test_apply_then_export_round_trip_with_dry_run_and_prune(
    gateway: Gateway, tmp_path: Path
) -> None:
    b = gateway.backend
    current = yaml.safe_load(omg(gateway, tmp_path, "export").stdout)
    ours: dict[str, list[dict[str, Any]]] = {
        "models": [{"name": f"cac-model-{b}", "owned_by": "cac"}],
        "deployments": [{"name": f"cac-dep-{b}", "model": f"cac-model-{b}",
                         "base_url": "http://127.0.0.1:9/v1", "api_key": "${CAC_KEY}"},
                        {"name": f"cac-bedrock-{b}", "model": f"cac-model-{b}",
                         "provider": "bedrock", "base_url": "http://127.0.0.1:9",
                         "api_key": "${CAC_KEY}", "options": {"region": "eu-west-1"}}],
        "users": [{"name": f"cac-user-{b}", "email": "cac@example.com"}],
        "tenants": [{"name": f"cac-tenant-{b}"}],
        "memberships": [{"tenant": f"cac-tenant-{b}", "user": f"cac-user-{b}",
                         "role": "operator"}],
        "key_policies": [{"tenant": f"cac-tenant-{b}", "max_keys": 3, "max_rpm": 100},
                         {"tenant": f"personal:cac-user-{b}", "user": f"cac-user-{b}",
                          "max_keys": 1}],
    }
    document = {s: current[s] + ours[s] for s in ours}
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(document))

    dry = omg(gateway, tmp_path, "apply", "-f", str(path), "--dry-run", CAC_KEY="sk-cac-1")
    assert dry.exit_code == 0, dry.output
    assert f"+ deployment cac-dep-{b}" in dry.stdout and "Dry run" in dry.stdout
    assert "Plan: 8 to create, 0 to update, 0 to delete." in dry.stdout
    applied = omg(gateway, tmp_path, "apply", "-f", str(path), CAC_KEY="sk-cac-1")
    assert applied.exit_code == 0 and "Applied 8 changes." in applied.stdout, applied.output
    again = omg(gateway, tmp_path, "apply", "-f", str(path), CAC_KEY="sk-cac-1")
    assert again.stdout.strip() == "No changes."

    exported = omg(gateway, tmp_path, "export").stdout
    assert "api_key: ${CAC_KEY}" in exported and "sk-cac-1" not in exported
    assert "region: eu-west-1" in exported  # provider options round-trip too
    round_trip = omg(gateway, tmp_path, "apply", "--dry-run", "-f", "-", stdin=exported)
    assert round_trip.exit_code == 0
    assert round_trip.stdout.splitlines()[0] == "No changes."

    rotated = omg(gateway, tmp_path, "apply", "-f", str(path), "--dry-run", CAC_KEY="sk-cac-2")
    assert f"~ deployment cac-dep-{b} (api_key: (changed))" in rotated.stdout
    assert f"~ deployment cac-bedrock-{b} (api_key: (changed))" in rotated.stdout

    document["memberships"] = current["memberships"]
    document["tenants"] = current["tenants"]
    document["key_policies"] = current["key_policies"] + ours["key_policies"][1:]
    path.write_text(yaml.safe_dump(document))
    pruned = omg(gateway, tmp_path, "apply", "-f", str(path), "--prune")
    assert pruned.exit_code == 0, pruned.output
    assert pruned.stdout.splitlines()[:3] == [
        f"- key_policy cac-tenant-{b}", f"- membership cac-tenant-{b}/cac-user-{b}",
        f"- tenant cac-tenant-{b}"]
    assert f"cac-tenant-{b}" not in omg(gateway, tmp_path, "export").stdout
    audit = omg(gateway, tmp_path, "audit", "list", "--action", "tenant.delete", "-o", "json")
    assert json.loads(audit.stdout)["data"][0]["actor_name"] == "admin"
