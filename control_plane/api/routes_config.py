"""Admin endpoints for gateway configuration: tenants, models, deployments, API keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import col, select

from control_plane import crud, models
from control_plane.api.deps import AdminDep, CipherDep, HubDep, SessionDep
from control_plane.api.schemas import (
    DeploymentCreate,
    DeploymentPublic,
    KeyCreate,
    KeyCreated,
    KeyPublic,
    ModelCreate,
    ModelPublic,
    Page,
    TenantCreate,
    TenantPublic,
)

router = APIRouter(prefix="/api/v1", dependencies=[AdminDep])
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]


async def list_page(
    session: SessionDep, statement: Any, convert: Callable[[Any], Any], limit: int, offset: int
) -> Page:  # type: ignore[type-arg]
    rows, more = await crud.page(session, statement, limit=limit, offset=offset)
    return Page(data=[convert(r) for r in rows], limit=limit, offset=offset, has_more=more)


def public(schema: type[BaseModel]) -> Callable[[Any], Any]:
    return lambda row: schema.model_validate(row, from_attributes=True)


def deployment_public(dep: models.Deployment) -> DeploymentPublic:
    fields = dep.model_dump(exclude={"public_model", "options"})
    return DeploymentPublic(model=dep.public_model, options=dep.options or {}, **fields)


@router.get("/tenants", response_model=Page[TenantPublic])
async def list_tenants(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page:  # type: ignore[type-arg]
    statement = select(models.Tenant).order_by(col(models.Tenant.name))
    return await list_page(session, statement, public(TenantPublic), limit, offset)


@router.post("/tenants", response_model=TenantPublic, status_code=201)
async def create_tenant(body: TenantCreate, session: SessionDep, hub: HubDep) -> TenantPublic:
    tenant = await crud.create_tenant(session, name=body.name)
    await hub.refresh()
    return TenantPublic(**tenant.model_dump())


@router.get("/models", response_model=Page[ModelPublic])
async def list_models(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page:  # type: ignore[type-arg]
    statement = select(models.GatewayModel).order_by(col(models.GatewayModel.name))
    return await list_page(session, statement, public(ModelPublic), limit, offset)


@router.post("/models", response_model=ModelPublic, status_code=201)
async def create_model(body: ModelCreate, session: SessionDep, hub: HubDep) -> ModelPublic:
    model = await crud.create_model(session, name=body.name, owned_by=body.owned_by)
    await hub.refresh()
    return ModelPublic(**model.model_dump())


@router.get("/deployments", response_model=Page[DeploymentPublic])
async def list_deployments(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page:  # type: ignore[type-arg]
    statement = select(models.Deployment).order_by(col(models.Deployment.name))
    return await list_page(session, statement, deployment_public, limit, offset)


@router.post("/deployments", response_model=DeploymentPublic, status_code=201)
async def create_deployment(
    body: DeploymentCreate, session: SessionDep, hub: HubDep, cipher: CipherDep
) -> DeploymentPublic:
    fields = body.model_dump(exclude={"api_key", "model", "base_url"})
    deployment = await crud.create_deployment(
        session, cipher=cipher, api_key=body.api_key, model=body.model,
        base_url=str(body.base_url).rstrip("/"), **fields,
    )
    await hub.refresh()
    return deployment_public(deployment)


@router.delete("/deployments/{deployment_id}", status_code=204)
async def delete_deployment(deployment_id: str, session: SessionDep, hub: HubDep) -> None:
    await crud.delete_deployment(session, deployment_id=deployment_id)
    await hub.refresh()


@router.get("/keys", response_model=Page[KeyPublic])
async def list_keys(
    session: SessionDep, tenant_id: str | None = None, limit: Limit = 100, offset: Offset = 0
) -> Page:  # type: ignore[type-arg]
    statement = select(models.ApiKey).order_by(col(models.ApiKey.created_at), col(models.ApiKey.id))
    if tenant_id:
        statement = statement.where(models.ApiKey.tenant_id == tenant_id)
    return await list_page(session, statement, public(KeyPublic), limit, offset)


@router.post("/keys", response_model=KeyCreated, status_code=201)
async def create_key(body: KeyCreate, session: SessionDep, hub: HubDep) -> KeyCreated:
    key, secret = await crud.create_api_key(session, **body.model_dump())
    await hub.refresh()
    return KeyCreated(secret=secret, **key.model_dump())


@router.post("/keys/{key_id}/revoke", response_model=KeyPublic)
async def revoke_key(key_id: str, session: SessionDep, hub: HubDep) -> KeyPublic:
    key = await crud.revoke_api_key(session, key_id=key_id)
    await hub.refresh()
    return KeyPublic(**key.model_dump())
