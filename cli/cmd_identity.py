"""`omg tenants|users|members|roles`: who exists and who may do what."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import LimitOpt, OffsetOpt, OutputOpt, TenantOpt, admin, page_params
from cli.output import Output, show

tenants_app = typer.Typer(
    help="Tenants: list/create/delete (platform admins); get/rename (tenant members).",
    no_args_is_help=True)
users_app = typer.Typer(help="Users, their platform role and their access tokens.",
                        no_args_is_help=True)
members_app = typer.Typer(help="Members of a tenant and their roles.", no_args_is_help=True)
roles_app = typer.Typer(help="Roles and the permissions they grant.", no_args_is_help=True)

TENANT_COLUMNS = ["id", "name", "personal_user_id", "rpm_limit", "tpm_limit", "created_at"]
USER_COLUMNS = ["id", "name", "email", "platform_role", "disabled", "created_at"]
TOKEN_COLUMNS = ["id", "name", "prefix", "expires_at", "revoked_at", "last_used_at"]
MEMBER_COLUMNS = ["user_id", "user_name", "role", "created_at"]


@tenants_app.command("list")
def tenants_list(
    personal: Annotated[bool | None, typer.Option(
        "--personal/--shared", help="only personal (or only shared) tenants")] = None,
    limit: LimitOpt = 100, offset: OffsetOpt = 0, output: OutputOpt = Output.table,
) -> None:
    """List every tenant (needs tenants:read)."""
    params = page_params(limit, offset, personal=personal)
    show(admin("GET", "/api/v1/tenants", params=params), TENANT_COLUMNS, output)


@tenants_app.command("get")
def tenants_get(tenant: str, output: OutputOpt = Output.table) -> None:
    """Show one tenant (by id or name)."""
    show(admin("GET", f"/api/v1/tenants/{tenant}"), TENANT_COLUMNS, output)


@tenants_app.command("create")
def tenants_create(name: str, output: OutputOpt = Output.table) -> None:
    """Create a shared tenant."""
    show(admin("POST", "/api/v1/tenants", json={"name": name}), TENANT_COLUMNS, output)


@tenants_app.command("rename")
def tenants_rename(tenant: str, new_name: str, output: OutputOpt = Output.table) -> None:
    """Rename a tenant (by id or name)."""
    show(admin("PATCH", f"/api/v1/tenants/{tenant}", json={"name": new_name}), TENANT_COLUMNS,
         output)


TenantRpmOpt = Annotated[int | None, typer.Option(
    help="requests per minute for the whole tenant; omit: no limit", min=1)]
TenantTpmOpt = Annotated[int | None, typer.Option(
    help="tokens per minute for the whole tenant; omit: no limit", min=1)]


@tenants_app.command("limits")
def tenants_limits(
    tenant: str, rpm_limit: TenantRpmOpt = None, tpm_limit: TenantTpmOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Set (replace) a tenant's rate limits, shared by all its keys (needs policies:write)."""
    body = {"rpm_limit": rpm_limit, "tpm_limit": tpm_limit}
    show(admin("PUT", f"/api/v1/tenants/{tenant}/rate-limits", json=body), TENANT_COLUMNS,
         output)


@tenants_app.command("delete")
def tenants_delete(tenant: str) -> None:
    """Delete a shared tenant with its members, keys and key policies (usage stays)."""
    admin("DELETE", f"/api/v1/tenants/{tenant}")
    typer.echo(f"deleted tenant {tenant}")


@users_app.command("list")
def users_list(
    limit: LimitOpt = 100, offset: OffsetOpt = 0, output: OutputOpt = Output.table
) -> None:
    """List users (needs users:read)."""
    show(admin("GET", "/api/v1/users", params=page_params(limit, offset)), USER_COLUMNS, output)


@users_app.command("create")
def users_create(
    name: str,
    email: Annotated[str, typer.Option(help="contact address")] = "",
    platform_role: Annotated[str | None, typer.Option(help="e.g. platform_admin")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Create a user and their personal tenant (`personal:<name>`)."""
    body = {"name": name, "email": email, "platform_role": platform_role}
    show(admin("POST", "/api/v1/users", json=body), USER_COLUMNS, output)


@users_app.command("update")
def users_update(
    user: str,
    email: Annotated[str | None, typer.Option(help="new contact address")] = None,
    platform_role: Annotated[str | None, typer.Option(
        help="new platform role; 'none' removes it")] = None,
    disabled: Annotated[bool | None, typer.Option("--disabled/--enabled",
                                                  help="lock the user out, or let them in")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Change a user's email, platform role or disabled flag (by id or name)."""
    body: dict[str, object] = {}
    if email is not None:
        body["email"] = email
    if platform_role is not None:
        body["platform_role"] = None if platform_role == "none" else platform_role
    if disabled is not None:
        body["disabled"] = disabled
    show(admin("PATCH", f"/api/v1/users/{user}", json=body), USER_COLUMNS, output)


@users_app.command("delete")
def users_delete(user: str) -> None:
    """Delete a user with their tokens, memberships, personal keys and personal tenant."""
    admin("DELETE", f"/api/v1/users/{user}")
    typer.echo(f"deleted user {user}")


@users_app.command("token")
def users_token(
    user: str,
    name: Annotated[str, typer.Option(help="a label for the token")] = "cli",
    expires_at: Annotated[str | None, typer.Option(help="ISO time; default never")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Issue a personal access token for a user; the secret is printed once."""
    body = {"name": name, "expires_at": expires_at}
    show(admin("POST", f"/api/v1/users/{user}/tokens", json=body), ["id", "name", "secret"],
         output)


@users_app.command("tokens")
def users_tokens(user: str, output: OutputOpt = Output.table) -> None:
    """List a user's personal access tokens (never their secrets)."""
    show(admin("GET", f"/api/v1/users/{user}/tokens"), TOKEN_COLUMNS, output)


@users_app.command("revoke-token")
def users_revoke_token(user: str, token_id: str) -> None:
    """Revoke one of a user's personal access tokens."""
    admin("DELETE", f"/api/v1/users/{user}/tokens/{token_id}")
    typer.echo(f"revoked token {token_id}")


@members_app.command("list")
def members_list(
    tenant: TenantOpt, limit: LimitOpt = 100, offset: OffsetOpt = 0,
    output: OutputOpt = Output.table,
) -> None:
    """List the members of a tenant and their roles."""
    show(admin("GET", f"/api/v1/tenants/{tenant}/members", params=page_params(limit, offset)),
         MEMBER_COLUMNS, output)


@members_app.command("add")
def members_add(
    tenant: TenantOpt,
    user: Annotated[str, typer.Option(help="user id or name")],
    role: Annotated[str, typer.Option(help="a tenant role (see `omg roles list`)")],
    output: OutputOpt = Output.table,
) -> None:
    """Add a user to a tenant with a role."""
    body = {"user": user, "role": role}
    show(admin("POST", f"/api/v1/tenants/{tenant}/members", json=body), MEMBER_COLUMNS, output)


@members_app.command("set-role")
def members_set_role(
    tenant: TenantOpt,
    user: Annotated[str, typer.Option(help="user id or name")],
    role: Annotated[str, typer.Option(help="the new tenant role")],
    output: OutputOpt = Output.table,
) -> None:
    """Change a member's role (you can only grant roles whose permissions you hold)."""
    show(admin("PATCH", f"/api/v1/tenants/{tenant}/members/{user}", json={"role": role}),
         MEMBER_COLUMNS, output)


@members_app.command("remove")
def members_remove(
    tenant: TenantOpt, user: Annotated[str, typer.Option(help="user id or name")]
) -> None:
    """Remove a member; their personal keys in the tenant are revoked."""
    admin("DELETE", f"/api/v1/tenants/{tenant}/members/{user}")
    typer.echo(f"removed {user} from {tenant}")


@roles_app.command("list")
def roles_list(output: OutputOpt = Output.table) -> None:
    """List roles with their scope and capabilities (the permissions they grant)."""
    show(admin("GET", "/api/v1/roles"), ["name", "scope", "permissions", "description"], output)


@roles_app.command("permissions")
def roles_permissions(output: OutputOpt = Output.table) -> None:
    """List every permission, its scope and what it allows."""
    show(admin("GET", "/api/v1/permissions"), ["name", "scope", "description"], output)
