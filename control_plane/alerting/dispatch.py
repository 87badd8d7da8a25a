"""`notify(tenant_id, event)`: fire an alert once per dedup key and deliver it everywhere.

Once: the alert row's dedup key is unique, so of several control-plane replicas (or a
restarted one) only the first insert wins and delivers. Everywhere: each enabled channel of
the tenant (tenant_id None: the platform's channels), retried with exponential backoff;
every attempt is a row in `alert_delivery`, so a failed delivery is visible, never silent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import models
from control_plane.alerting.channels import enabled_channels
from control_plane.alerting.deliver import DeliveryFailed, SmtpSettings, send_email, send_webhook
from control_plane.crypto import CredentialCipher

log = logging.getLogger("omg.control_plane.alerts")


@dataclass(frozen=True)
class AlertEvent:
    kind: str  # e.g. "budget.threshold"
    dedup_key: str  # the same key never fires twice
    message: str
    data: dict[str, Any] = field(default_factory=dict)


def alert_body(alert: models.AlertEvent) -> bytes:
    return orjson.dumps({"id": alert.id, "kind": alert.kind, "tenant_id": alert.tenant_id,
                         "created_at": alert.created_at.isoformat(), **alert.payload})


class AlertDispatcher:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cipher: CredentialCipher,
        smtp: SmtpSettings, retries: int = 4, backoff_s: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._smtp = smtp
        self._retries = retries
        self._backoff_s = backoff_s

    async def notify(self, tenant_id: str | None, event: AlertEvent) -> bool:
        """Fire and deliver; False when this dedup key already fired (nothing is sent)."""
        alert = await self._fire(tenant_id, event)
        if alert is None:
            return False
        async with self._sessions() as session:
            channels = await enabled_channels(session, tenant_id)
        await asyncio.gather(*(self._deliver(alert, c) for c in channels))
        return True

    async def _fire(self, tenant_id: str | None, event: AlertEvent) -> models.AlertEvent | None:
        alert = models.AlertEvent(dedup_key=event.dedup_key, tenant_id=tenant_id,
                                  kind=event.kind,
                                  payload={"message": event.message, "data": event.data})
        async with self._sessions() as session:
            session.add(alert)
            try:
                await session.commit()
            except IntegrityError:
                return None
            await session.refresh(alert)
        log.info("alert %s fired (%s): %s", alert.id, event.dedup_key, event.message)
        return alert

    def _sender(self, alert: models.AlertEvent, channel: models.AlertChannel
                ) -> Callable[[], Awaitable[None]]:
        body = alert_body(alert)
        if channel.kind == "webhook":
            secret = self._cipher.decrypt(channel.secret_encrypted)
            return lambda: send_webhook(channel.target, secret, body)
        subject = f"[OMG alert] {alert.payload.get('message', alert.kind)}"
        text = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2).decode()
        return lambda: send_email(self._smtp, channel.target.split(","), subject, text)

    async def _deliver(self, alert: models.AlertEvent, channel: models.AlertChannel) -> bool:
        send = self._sender(alert, channel)
        for attempt in range(1, self._retries + 1):
            error = ""
            try:
                await send()
            except DeliveryFailed as exc:
                error = str(exc)[:500]
            await self._record(alert.id, channel.id, attempt, error)
            if not error:
                return True
            if attempt < self._retries:
                await asyncio.sleep(self._backoff_s * 2 ** (attempt - 1))
        log.error("alert %s not delivered to channel %s after %d attempts", alert.id,
                  channel.id, self._retries)
        return False

    async def _record(self, alert_id: str, channel_id: str, attempt: int, error: str) -> None:
        async with self._sessions() as session:
            session.add(models.AlertDelivery(alert_id=alert_id, channel_id=channel_id,
                                             attempt=attempt, ok=not error, error=error))
            await session.commit()
