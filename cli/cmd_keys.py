"""`omg keys`: data-plane API keys and the key policies that bound them.

With `--tenant`, a tenant's keys (needs keys:read / keys:write there); without it, your own
personal keys in your personal tenant (self-service, bounded by the limits an admin set).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from cli.common import LimitOpt, OffsetOpt, OutputOpt, admin, page_params
from cli.output import Output, show

keys_app = typer.Typer(help="Data-plane API keys: yours, or a tenant's with --tenant.",
                       no_args_is_help=True)

KEY_COLUMNS = ["id", "name", "prefix", "user_id", "rpm_limit", "tpm_limit", "allowed_models",
               "expires_at", "revoked_at", "last_used_at"]
SECRET_COLUMNS = ["id", "name", "prefix", "secret", "previous_expires_at"]
POLICY_COLUMNS = ["id", "user_id", "max_keys", "max_rpm", "max_tpm", "allowed_models"]

KeyTenantOpt = Annotated[str | None, typer.Option(
    "--tenant", "-t", help="tenant id or name; default: your personal keys")]
ExpiresOpt = Annotated[datetime | None, typer.Option(help="ISO time; default never")]
ModelOpt = Annotated[list[str] | None, typer.Option(
    "--allowed-model", help="repeat for several; default every model")]
RpmOpt = Annotated[int | None, typer.Option(help="requests per minute for this key", min=1)]
TpmOpt = Annotated[int | None, typer.Option(help="tokens per minute for this key", min=1)]


def keys_path(tenant: str | None, key_id: str = "") -> str:
    base = f"/api/v1/tenants/{tenant}/keys" if tenant else "/user/api-keys"
    return f"{base}/{key_id}" if key_id else base


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@keys_app.command("list")
def keys_list(
    tenant: KeyTenantOpt = None,
    user: Annotated[str | None, typer.Option(help="only this member's keys (user id)")] = None,
    include_revoked: Annotated[bool, typer.Option(help="also list revoked keys")] = True,
    limit: LimitOpt = 100, offset: OffsetOpt = 0, output: OutputOpt = Output.table,
) -> None:
    """List keys (never their secrets)."""
    params = page_params(limit, offset, include_revoked=include_revoked, user_id=user)
    show(admin("GET", keys_path(tenant), params=params), KEY_COLUMNS, output)


@keys_app.command("get")
def keys_get(key_id: str, tenant: KeyTenantOpt = None, output: OutputOpt = Output.table) -> None:
    """Show one key."""
    show(admin("GET", keys_path(tenant, key_id)), KEY_COLUMNS, output)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="a label for the key")],
    tenant: KeyTenantOpt = None,
    user: Annotated[str | None, typer.Option(
        help="with --tenant: a member's id or name, for a personal key")] = None,
    expires_at: ExpiresOpt = None, allowed_model: ModelOpt = None, rpm_limit: RpmOpt = None,
    tpm_limit: TpmOpt = None, output: OutputOpt = Output.table,
) -> None:
    """Create a key. The secret is printed once; only its hash is stored."""
    body: dict[str, Any] = {"name": name, "allowed_models": allowed_model or [],
                            "expires_at": iso(expires_at), "rpm_limit": rpm_limit,
                            "tpm_limit": tpm_limit}
    if user:
        body["user_id"] = user
    show(admin("POST", keys_path(tenant), json=body), SECRET_COLUMNS, output)


@keys_app.command("update")
def keys_update(
    key_id: str, tenant: KeyTenantOpt = None,
    name: Annotated[str | None, typer.Option(help="new label")] = None,
    expires_at: ExpiresOpt = None, allowed_model: ModelOpt = None, rpm_limit: RpmOpt = None,
    tpm_limit: TpmOpt = None, output: OutputOpt = Output.table,
) -> None:
    """Change a key's name, expiry, allowed models or limits (only what you pass)."""
    body = {k: v for k, v in (("name", name), ("expires_at", iso(expires_at)),
                              ("allowed_models", allowed_model), ("rpm_limit", rpm_limit),
                              ("tpm_limit", tpm_limit)) if v is not None}
    show(admin("PATCH", keys_path(tenant, key_id), json=body), KEY_COLUMNS, output)


@keys_app.command("rotate")
def keys_rotate(
    key_id: str, tenant: KeyTenantOpt = None,
    grace_seconds: Annotated[int, typer.Option(
        help="how long the old secret keeps working; 0: it stops at once", min=0)] = 0,
    output: OutputOpt = Output.table,
) -> None:
    """Give a key a new secret (printed once)."""
    show(admin("POST", f"{keys_path(tenant, key_id)}/rotate",
               json={"grace_seconds": grace_seconds}), SECRET_COLUMNS, output)


@keys_app.command("revoke")
def keys_revoke(key_id: str, tenant: KeyTenantOpt = None) -> None:
    """Revoke a key: the gateway refuses it within about a second."""
    if tenant:
        admin("POST", f"{keys_path(tenant, key_id)}/revoke")
    else:
        admin("DELETE", keys_path(None, key_id))
    typer.echo(f"revoked {key_id}")


@keys_app.command("policies")
def keys_policies(
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="tenant id or name")],
    output: OutputOpt = Output.table,
) -> None:
    """List the key policies of a tenant (limits on its keys, or on one member's)."""
    show(admin("GET", f"/api/v1/tenants/{tenant}/key-policies"), POLICY_COLUMNS, output)


@keys_app.command("set-policy")
def keys_set_policy(
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="tenant id or name")],
    user: Annotated[str | None, typer.Option(help="a member; default the whole tenant")] = None,
    max_keys: Annotated[int | None, typer.Option(help="active keys at most", min=0)] = None,
    max_rpm: Annotated[int | None, typer.Option(help="highest rpm_limit", min=1)] = None,
    max_tpm: Annotated[int | None, typer.Option(help="highest tpm_limit", min=1)] = None,
    allowed_model: ModelOpt = None, output: OutputOpt = Output.table,
) -> None:
    """Create or replace a key policy (what you leave out is unlimited). Platform admins."""
    body = {"user_id": user, "max_keys": max_keys, "max_rpm": max_rpm, "max_tpm": max_tpm,
            "allowed_models": allowed_model or []}
    show(admin("PUT", f"/api/v1/tenants/{tenant}/key-policies", json=body), POLICY_COLUMNS,
         output)


@keys_app.command("delete-policy")
def keys_delete_policy(
    policy_id: str,
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="tenant id or name")],
) -> None:
    """Delete a key policy."""
    admin("DELETE", f"/api/v1/tenants/{tenant}/key-policies/{policy_id}")
    typer.echo(f"deleted policy {policy_id}")
