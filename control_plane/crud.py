"""Database writes and reads behind the admin API. Keyword-only, no HTTP here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import models
from control_plane.config_hub import bump_revision
from control_plane.crypto import CredentialCipher, fingerprint
from omg_common.keys import hash_secret, new_secret, visible_prefix

Row = TypeVar("Row", bound=SQLModel)


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    pass


async def page(
    session: AsyncSession, statement: Any, *, limit: int, offset: int
) -> tuple[Sequence[Any], bool]:
    rows = (await session.exec(statement.offset(offset).limit(limit + 1))).all()
    return rows[:limit], len(rows) > limit


async def get_or_404(session: AsyncSession, table: type[Row], id_: str) -> Row:
    row = await session.get(table, id_)
    if row is None:
        raise NotFound(f"{table.__name__} {id_!r} not found")
    return row


async def save_config(session: AsyncSession, *rows: SQLModel) -> None:
    """Commit config rows and bump the revision that replicas poll, in one transaction."""
    for row in rows:
        session.add(row)
    await bump_revision(session)
    await session.commit()


async def create_tenant(session: AsyncSession, *, name: str) -> models.Tenant:
    if (await session.exec(select(models.Tenant).where(models.Tenant.name == name))).first():
        raise Conflict(f"tenant {name!r} already exists")
    tenant = models.Tenant(name=name)
    await save_config(session, tenant)
    return tenant


async def create_model(session: AsyncSession, *, name: str, owned_by: str) -> models.GatewayModel:
    found = await session.exec(select(models.GatewayModel).where(models.GatewayModel.name == name))
    if found.first():
        raise Conflict(f"model {name!r} already exists")
    model = models.GatewayModel(name=name, owned_by=owned_by)
    await save_config(session, model)
    return model


async def create_deployment(
    session: AsyncSession, *, cipher: CredentialCipher, api_key: str, model: str, **fields: Any
) -> models.Deployment:
    found = await session.exec(select(models.GatewayModel).where(models.GatewayModel.name == model))
    if not found.first():
        raise NotFound(f"model {model!r} not found; create it first")
    taken = await session.exec(
        select(models.Deployment).where(models.Deployment.name == fields["name"])
    )
    if taken.first():
        raise Conflict(f"deployment {fields['name']!r} already exists")
    deployment = models.Deployment(
        public_model=model,
        credential_encrypted=cipher.encrypt(api_key),
        credential_fingerprint=fingerprint(api_key),
        **fields,
    )
    await save_config(session, deployment)
    return deployment


async def delete_deployment(session: AsyncSession, *, deployment_id: str) -> None:
    deployment = await get_or_404(session, models.Deployment, deployment_id)
    await session.delete(deployment)
    await bump_revision(session)
    await session.commit()


async def create_api_key(
    session: AsyncSession,
    *,
    tenant_id: str,
    name: str,
    expires_at: datetime | None = None,
    allowed_models: list[str] | None = None,
    secret: str | None = None,
) -> tuple[models.ApiKey, str]:
    await get_or_404(session, models.Tenant, tenant_id)
    secret = secret or new_secret()
    key = models.ApiKey(
        tenant_id=tenant_id,
        name=name,
        prefix=visible_prefix(secret),
        key_hash=hash_secret(secret),
        expires_at=expires_at,
        allowed_models=allowed_models or [],
    )
    await save_config(session, key)
    return key, secret


async def revoke_api_key(session: AsyncSession, *, key_id: str) -> models.ApiKey:
    key = await get_or_404(session, models.ApiKey, key_id)
    if key.revoked_at is None:
        key.revoked_at = models.utcnow()
        await save_config(session, key)
    return key


async def create_admin_token(session: AsyncSession, *, name: str, secret: str) -> None:
    session.add(models.AdminToken(name=name, token_hash=hash_secret(secret)))
    await session.commit()


async def admin_token_valid(session: AsyncSession, secret: str) -> bool:
    statement = select(models.AdminToken).where(
        models.AdminToken.token_hash == hash_secret(secret),
        col(models.AdminToken.revoked_at).is_(None),
    )
    return (await session.exec(statement)).first() is not None
