"""Sending one alert to one channel: a signed webhook POST, or an email over SMTP.

Webhook receivers verify `X-OMG-Signature: sha256=<hex>`, the HMAC-SHA256 under the
channel's secret of `<X-OMG-Timestamp>.<raw body>` (the timestamp guards against replays).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage

import httpx

SIGNATURE_HEADER = "x-omg-signature"
TIMESTAMP_HEADER = "x-omg-timestamp"


class DeliveryFailed(Exception):
    pass


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now_s: int) -> dict[str, str]:
    timestamp = str(now_s)
    return {"content-type": "application/json", TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(secret, timestamp, body)}


async def send_webhook(url: str, secret: str, body: bytes, timeout_s: float = 10.0) -> None:
    headers = signed_headers(secret, body, int(time.time()))
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        raise DeliveryFailed(f"HTTP {response.status_code}")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout_s: float = 10.0


def _send_mail(smtp: SmtpSettings, message: EmailMessage) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.user:
            client.login(smtp.user, smtp.password)
        client.send_message(message)


async def send_email(smtp: SmtpSettings, to: list[str], subject: str, text: str) -> None:
    if not smtp.host:
        raise DeliveryFailed("no SMTP server configured (OMG_SMTP_HOST)")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, ", ".join(to), subject
    message.set_content(text)
    try:
        await asyncio.to_thread(_send_mail, smtp, message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
