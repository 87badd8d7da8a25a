"""First-start seeding for the embedded default: a demo tenant, key, model and admin token."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import crud, models
from control_plane.crypto import CredentialCipher
from omg_common.keys import ADMIN_TOKEN_PREFIX, new_secret

DEMO_TENANT = "demo"
DEMO_MODEL = "mock-gpt"


@dataclass(frozen=True)
class SeedResult:
    demo_key: str
    admin_token: str


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")


async def ensure_admin_token(session: AsyncSession, home: Path) -> str:
    path = home / "admin.token"
    if path.exists():
        token = path.read_text().strip()
        if await crud.admin_token_valid(session, token):
            return token
    token = new_secret(ADMIN_TOKEN_PREFIX)
    await crud.create_admin_token(session, name="omg-up bootstrap", secret=token)
    write_private(path, token)
    return token


async def ensure_demo(
    session: AsyncSession, home: Path, cipher: CredentialCipher, mock_base_url: str
) -> str | None:
    """Seed once (when no tenant exists). Returns the demo key's secret, or None if seeded."""
    if (await session.exec(select(models.Tenant))).first() is not None:
        path = home / "demo.key"
        return path.read_text().strip() if path.exists() else None
    tenant = await crud.create_tenant(session, name=DEMO_TENANT)
    await crud.create_model(session, name=DEMO_MODEL, owned_by="omg-mock")
    await crud.create_deployment(
        session, cipher=cipher, api_key="", model=DEMO_MODEL, name="mock-gpt-local",
        base_url=mock_base_url, upstream_model="", provider="openai",
    )
    _, secret = await crud.create_api_key(session, tenant_id=tenant.id, name="demo")
    write_private(home / "demo.key", secret)
    return secret


async def seed(
    session: AsyncSession, home: Path, cipher: CredentialCipher, mock_base_url: str
) -> SeedResult:
    admin = await ensure_admin_token(session, home)
    demo = await ensure_demo(session, home, cipher, mock_base_url)
    return SeedResult(demo_key=demo or "", admin_token=admin)
