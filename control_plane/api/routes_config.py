"""Admin endpoints for platform configuration: public models and deployments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from sqlmodel import col, select

from control_plane import crud, models, provider_sync
from control_plane.api.access import require
from control_plane.api.deps import AuditDep, CipherDep, HubDep, SessionDep
from control_plane.api.paging import Limit, Offset, list_page, public
from control_plane.api.schemas import (
    DeploymentCreate,
    DeploymentPublic,
    DeploymentUpdate,
    ModelCreate,
    ModelPublic,
    ModelUpdate,
    Page,
    ProviderSync,
    ProviderSyncResult,
)

router = APIRouter(prefix="/api/v1")


def deployment_public(dep: models.Deployment) -> DeploymentPublic:
    fields = dep.model_dump(exclude={"public_model", "options"})
    return DeploymentPublic(model=dep.public_model, options=dep.options or {}, **fields)


@router.get("/models", response_model=Page[ModelPublic], dependencies=[require("models:read")])
async def list_models(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page:  # type: ignore[type-arg]
    statement = select(models.GatewayModel).order_by(col(models.GatewayModel.name))
    return await list_page(session, statement, public(ModelPublic), limit, offset)


@router.post("/models", response_model=ModelPublic, status_code=201,
             dependencies=[require("models:write")])
async def create_model(
    body: ModelCreate, session: SessionDep, hub: HubDep, ctx: AuditDep
) -> ModelPublic:
    model = await crud.create_model(session, ctx=ctx, **body.model_dump())
    await hub.refresh()
    return ModelPublic(**model.model_dump())


def model_changes(body: ModelUpdate) -> dict[str, Any]:
    """What the body sets; null clears only `num_retries` (back to its default)."""
    sent = body.model_dump(exclude_unset=True)
    return {k: v for k, v in sent.items() if v is not None or k == "num_retries"}


@router.patch("/models/{model}", response_model=ModelPublic,
              dependencies=[require("models:write")])
async def update_model(
    model: str, body: ModelUpdate, session: SessionDep, hub: HubDep, ctx: AuditDep
) -> ModelPublic:
    row = await crud.get_by_ref(session, models.GatewayModel, model)
    row = await crud.update_model(session, ctx=ctx, model=row, changes=model_changes(body))
    await hub.refresh()
    return ModelPublic(**row.model_dump())


@router.delete("/models/{model}", status_code=204, dependencies=[require("models:write")])
async def delete_model(model: str, session: SessionDep, hub: HubDep, ctx: AuditDep) -> None:
    row = await crud.get_by_ref(session, models.GatewayModel, model)
    await crud.delete_model(session, ctx=ctx, model=row)
    await hub.refresh()


@router.get("/deployments", response_model=Page[DeploymentPublic],
            dependencies=[require("deployments:read")])
async def list_deployments(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Page:  # type: ignore[type-arg]
    statement = select(models.Deployment).order_by(col(models.Deployment.name))
    return await list_page(session, statement, deployment_public, limit, offset)


@router.post("/deployments", response_model=DeploymentPublic, status_code=201,
             dependencies=[require("deployments:write")])
async def create_deployment(
    body: DeploymentCreate, session: SessionDep, hub: HubDep, cipher: CipherDep, ctx: AuditDep
) -> DeploymentPublic:
    fields = body.model_dump(exclude={"api_key", "model", "base_url"})
    deployment = await crud.create_deployment(
        session, ctx=ctx, cipher=cipher, api_key=body.api_key, model=body.model,
        base_url=str(body.base_url).rstrip("/"), **fields,
    )
    await hub.refresh()
    return deployment_public(deployment)


def deployment_changes(body: DeploymentUpdate) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True, exclude={"api_key"})
    if "model" in changes:
        changes["public_model"] = changes.pop("model")
    if changes.get("base_url") is not None:
        changes["base_url"] = str(changes["base_url"]).rstrip("/")
    return {k: v for k, v in changes.items() if v is not None}


Deployment = Annotated[str, "deployment id or name"]


@router.patch("/deployments/{deployment}", response_model=DeploymentPublic,
              dependencies=[require("deployments:write")])
async def update_deployment(
    deployment: Deployment, body: DeploymentUpdate, session: SessionDep, hub: HubDep,
    cipher: CipherDep, ctx: AuditDep,
) -> DeploymentPublic:
    row = await crud.get_by_ref(session, models.Deployment, deployment)
    row = await crud.update_deployment(session, ctx=ctx, cipher=cipher, deployment=row,
                                       changes=deployment_changes(body), api_key=body.api_key)
    await hub.refresh()
    return deployment_public(row)


@router.delete("/deployments/{deployment}", status_code=204,
               dependencies=[require("deployments:write")])
async def delete_deployment(
    deployment: Deployment, session: SessionDep, hub: HubDep, ctx: AuditDep
) -> None:
    row = await crud.get_by_ref(session, models.Deployment, deployment)
    await crud.delete_deployment(session, ctx=ctx, deployment=row)
    await hub.refresh()


@router.post("/providers/{provider}/sync", response_model=ProviderSyncResult,
             dependencies=[require("deployments:write")])
async def sync_provider_catalog(
    provider: str, body: ProviderSync, session: SessionDep, hub: HubDep, cipher: CipherDep,
    ctx: AuditDep,
) -> ProviderSyncResult:
    """Import the provider's model catalog: a model and a deployment per catalog entry."""
    template = await crud.get_by_ref(session, models.Deployment, body.deployment)
    if template.provider != provider:
        raise HTTPException(422, f"deployment {template.name!r} is a {template.provider} "
                                 f"deployment, not {provider}")
    try:
        result = await provider_sync.sync_catalog_models(
            session, ctx=ctx, cipher=cipher, template=template, prefix=body.prefix)
    except provider_sync.SyncError as exc:
        raise HTTPException(502, str(exc)) from None
    await hub.refresh()
    return ProviderSyncResult(created=result.created, existing=result.existing)
