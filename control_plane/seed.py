"""First-start seeding for the embedded default: the role catalog, a platform admin (its token
in `<home>/admin.token`), and a demo tenant, key and model."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import crud, crud_keys, crud_tenants, crud_users, models
from control_plane.audit import SYSTEM
from control_plane.catalog_sync import sync_catalog
from control_plane.crypto import CredentialCipher
from control_plane.rbac_catalog import PLATFORM_ADMIN_ROLE

DEMO_TENANT = "demo"
DEMO_MODEL = "mock-gpt"
ADMIN_USER = "admin"


@dataclass(frozen=True)
class SeedResult:
    demo_key: str
    admin_token: str


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")


async def ensure_platform_admin(session: AsyncSession) -> models.User:
    """The bootstrap platform admin user (created once, as `admin`)."""
    found = await session.exec(select(models.User).where(models.User.name == ADMIN_USER))
    user = found.first()
    if user is None:
        user = await crud_users.create_user(session, ctx=SYSTEM, name=ADMIN_USER,
                                            platform_role=PLATFORM_ADMIN_ROLE)
    return user


async def ensure_admin_token(session: AsyncSession, home: Path) -> str:
    """A valid token of the platform admin in `<home>/admin.token`; a new one if it is not."""
    path = home / "admin.token"
    if path.exists():
        token = path.read_text().strip()
        if await crud_users.authenticate(session, token) is not None:
            return token
    user = await ensure_platform_admin(session)
    _, token = await crud_users.create_pat(session, ctx=SYSTEM, user=user, name="omg-up bootstrap")
    write_private(path, token)
    return token


async def ensure_demo(
    session: AsyncSession, home: Path, cipher: CredentialCipher, mock_base_url: str
) -> str | None:
    """Seed once (when no shared tenant exists). Returns the demo key's secret, or None."""
    shared = select(models.Tenant).where(col(models.Tenant.personal_user_id).is_(None))
    if (await session.exec(shared)).first() is not None:
        path = home / "demo.key"
        return path.read_text().strip() if path.exists() else None
    tenant = await crud_tenants.create_tenant(session, ctx=SYSTEM, name=DEMO_TENANT)
    await crud.create_model(session, ctx=SYSTEM, name=DEMO_MODEL, owned_by="omg-mock")
    await crud.create_deployment(
        session, ctx=SYSTEM, cipher=cipher, api_key="", model=DEMO_MODEL, name="mock-gpt-local",
        base_url=mock_base_url, upstream_model="", provider="openai",
    )
    _, secret = await crud_keys.create_api_key(session, ctx=SYSTEM, tenant_id=tenant.id,
                                               name="demo")
    write_private(home / "demo.key", secret)
    return secret


async def seed(
    session: AsyncSession, home: Path, cipher: CredentialCipher, mock_base_url: str
) -> SeedResult:
    await session.run_sync(lambda sync_session: sync_catalog(sync_session.connection()))
    await session.commit()
    admin = await ensure_admin_token(session, home)
    demo = await ensure_demo(session, home, cipher, mock_base_url)
    return SeedResult(demo_key=demo or "", admin_token=admin)
