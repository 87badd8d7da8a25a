"""Alert channels in the database: a tenant's, or the platform's (tenant_id None)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import audit, models
from control_plane.audit import AuditContext
from control_plane.crud import Invalid, NotFound
from control_plane.crypto import CredentialCipher

SECRET_PREFIX = "whsec_"


def check_target(kind: str, target: str) -> str:
    if kind == "webhook":
        if not target.startswith(("http://", "https://")):
            raise Invalid("a webhook target is an http(s) URL", "target")
        return target
    addresses = [a.strip() for a in target.split(",") if a.strip()]
    if not addresses or any("@" not in a for a in addresses):
        raise Invalid("an email target is one or more comma-separated addresses", "target")
    return ",".join(addresses)


async def create_channel(
    session: AsyncSession, *, ctx: AuditContext, cipher: CredentialCipher,
    tenant_id: str | None, name: str, kind: str, target: str,
) -> tuple[models.AlertChannel, str]:
    """The channel and its webhook signing secret (shown once; kept encrypted)."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32) if kind == "webhook" else ""
    channel = models.AlertChannel(tenant_id=tenant_id, name=name, kind=kind,
                                  target=check_target(kind, target),
                                  secret_encrypted=cipher.encrypt(secret))
    session.add(channel)
    audit.record(session, ctx, action="alert_channel.create", target=channel,
                 tenant_id=tenant_id, after=audit.snapshot(channel))
    await session.commit()
    return channel, secret


def channels_of(tenant_id: str | None) -> object:
    table = models.AlertChannel
    column = col(table.tenant_id)
    where = column.is_(None) if tenant_id is None else column == tenant_id
    return select(table).where(where).order_by(col(table.created_at), col(table.id))


async def enabled_channels(
    session: AsyncSession, tenant_id: str | None
) -> Sequence[models.AlertChannel]:
    rows = (await session.exec(channels_of(tenant_id))).all()  # type: ignore[call-overload]
    return [r for r in rows if r.enabled]


async def delete_channel(
    session: AsyncSession, *, ctx: AuditContext, tenant_id: str | None, channel_id: str
) -> None:
    channel = await session.get(models.AlertChannel, channel_id)
    if channel is None or channel.tenant_id != tenant_id:
        raise NotFound(f"alert channel {channel_id!r} not found")
    audit.record(session, ctx, action="alert_channel.delete", target=channel,
                 tenant_id=tenant_id, before=audit.snapshot(channel))
    await session.delete(channel)
    await session.commit()


async def recent_alerts(
    session: AsyncSession, tenant_id: str | None, limit: int
) -> list[tuple[models.AlertEvent, list[models.AlertDelivery]]]:
    """The newest alerts of a tenant (None: the platform's) with every delivery attempt."""
    column = col(models.AlertEvent.tenant_id)
    where = column.is_(None) if tenant_id is None else column == tenant_id
    alerts = (await session.exec(select(models.AlertEvent).where(where).order_by(
        col(models.AlertEvent.created_at).desc()).limit(limit))).all()
    ids = [a.id for a in alerts]
    rows = (await session.exec(select(models.AlertDelivery).where(
        col(models.AlertDelivery.alert_id).in_(ids)).order_by(
        col(models.AlertDelivery.created_at)))).all() if ids else []
    by_alert: dict[str, list[models.AlertDelivery]] = {}
    for row in rows:
        by_alert.setdefault(row.alert_id, []).append(row)
    return [(a, by_alert.get(a.id, [])) for a in alerts]
