"""Import a provider's model catalog into ours (OpenRouter's `GET /models` discovery endpoint).

Each catalog model becomes a public model and a deployment cloned from a template deployment
of that provider (same base URL, credential and options). Existing names are left alone, so a
sync can be rerun; prices are read for the report (pricing per deployment comes later).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import crud, models
from control_plane.audit import AuditContext
from control_plane.crypto import CredentialCipher
from ext_proc.translators.openrouter_catalog import CatalogModel, openrouter_models_to_catalog

SYNCABLE = {"openrouter": openrouter_models_to_catalog}


class SyncError(ValueError):
    pass


@dataclass(frozen=True)
class SyncResult:
    created: list[str]
    existing: list[str]


async def fetch_catalog(template: models.Deployment, credential: str) -> list[CatalogModel]:
    headers = {"authorization": f"Bearer {credential}"} if credential else {}
    url = f"{template.base_url.rstrip('/')}/models"
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise SyncError(f"cannot reach {url}: {exc}") from None
    if response.status_code != 200:
        raise SyncError(f"{url} answered {response.status_code}: {response.text[:200]}")
    return SYNCABLE[template.provider](response.json())


async def existing_names(session: AsyncSession, names: list[str]) -> set[str]:
    rows = await session.exec(
        select(models.GatewayModel.name).where(models.GatewayModel.name.in_(names))  # type: ignore[attr-defined]
    )
    return set(rows.all())


async def sync_catalog_models(
    session: AsyncSession, *, ctx: AuditContext, cipher: CredentialCipher,
    template: models.Deployment, prefix: str,
) -> SyncResult:
    if template.provider not in SYNCABLE:
        raise SyncError(f"provider {template.provider!r} has no catalog to sync "
                        f"(syncable: {', '.join(sorted(SYNCABLE))})")
    credential = cipher.decrypt(template.credential_encrypted)
    catalog = await fetch_catalog(template, credential)
    wanted = {f"{prefix}{entry.id}": entry for entry in catalog}
    have = await existing_names(session, list(wanted))
    for name, entry in wanted.items():
        if name in have:
            continue
        await crud.create_model(session, ctx=ctx, name=name, owned_by=template.provider)
        await crud.create_deployment(
            session, ctx=ctx, cipher=cipher, api_key=credential, model=name, name=name,
            provider=template.provider, base_url=template.base_url, upstream_model=entry.id,
            options=dict(template.options or {}), weight=template.weight,
            priority=template.priority, timeout_s=template.timeout_s,
        )
    return SyncResult(sorted(set(wanted) - have), sorted(have))
