"""Database writes and reads behind the admin API: shared helpers, models and deployments.

Keyword-only, no HTTP here. Every mutation writes its audit event in its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import audit, models
from control_plane.audit import AuditContext
from control_plane.config_hub import bump_revision
from control_plane.crypto import CredentialCipher, fingerprint

Row = TypeVar("Row", bound=SQLModel)


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    pass


class Invalid(ValueError):
    """A field value the schema accepts but the current data does not (422)."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


async def page(
    session: AsyncSession, statement: Any, *, limit: int, offset: int
) -> tuple[Sequence[Any], bool]:
    rows = (await session.exec(statement.offset(offset).limit(limit + 1))).all()
    return rows[:limit], len(rows) > limit


def label(table: type[SQLModel]) -> str:
    return str(table.__tablename__).replace("_", " ")  # type: ignore[attr-defined]


async def get_or_404(session: AsyncSession, table: type[Row], id_: str) -> Row:
    row = await session.get(table, id_)
    if row is None:
        raise NotFound(f"{label(table)} {id_!r} not found")
    return row


async def get_by_ref(session: AsyncSession, table: type[Row], ref: str) -> Row:
    """A row by id, else by its unique name."""
    row = await session.get(table, ref)
    if row is None:
        found = await session.exec(select(table).where(table.name == ref))  # type: ignore[attr-defined]
        row = found.first()
    if row is None:
        raise NotFound(f"{label(table)} {ref!r} not found")
    return row


async def ensure_unique_name(session: AsyncSession, table: type[SQLModel], name: str) -> None:
    found = await session.exec(select(table).where(table.name == name))  # type: ignore[attr-defined]
    if found.first() is not None:
        raise Conflict(f"{label(table)} {name!r} already exists")


async def save_config(session: AsyncSession, *rows: SQLModel) -> None:
    """Commit config rows and bump the revision that replicas poll, in one transaction."""
    for row in rows:
        session.add(row)
    await bump_revision(session)
    await session.commit()


def apply_changes(row: SQLModel, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(row, name, value)


async def public_names(session: AsyncSession) -> set[str]:
    """Every name clients may ask for: models' names and their aliases (a small table)."""
    rows = (await session.exec(select(models.GatewayModel))).all()
    return {name for m in rows for name in [m.name, *(m.aliases or [])]}


async def ensure_models_exist(session: AsyncSession, names: Sequence[str], param: str) -> None:
    """Each name is a model's name or one of its aliases."""
    if not names:
        return
    missing = sorted(set(names) - await public_names(session))
    if missing:
        raise Invalid(f"unknown models: {missing}", param)


async def ensure_names_free(
    session: AsyncSession, names: Sequence[str], *, model_id: str = ""
) -> None:
    """A public name (model name or alias) stands for one model only."""
    taken: dict[str, str] = {}
    for other in (await session.exec(select(models.GatewayModel))).all():
        if other.id != model_id:
            taken.update((n, other.name) for n in [other.name, *(other.aliases or [])])
    clashes = sorted(n for n in names if n in taken)
    if clashes:
        raise Conflict(f"model names already in use: "
                       f"{', '.join(f'{n} (by {taken[n]})' for n in clashes)}")


async def create_model(
    session: AsyncSession, *, ctx: AuditContext, name: str, owned_by: str,
    aliases: Sequence[str] = (), **fields: Any,
) -> models.GatewayModel:
    await ensure_unique_name(session, models.GatewayModel, name)
    if name in aliases:
        raise Invalid("a model's alias cannot be its own name", "aliases")
    await ensure_names_free(session, [name, *aliases])
    model = models.GatewayModel(name=name, owned_by=owned_by, aliases=list(aliases), **fields)
    audit.record(session, ctx, action="model.create", target=model, after=audit.snapshot(model))
    await save_config(session, model)
    return model


async def update_model(
    session: AsyncSession, *, ctx: AuditContext, model: models.GatewayModel,
    changes: dict[str, Any],
) -> models.GatewayModel:
    before = audit.snapshot(model)
    if changes.get("aliases"):
        if model.name in changes["aliases"]:
            raise Invalid("a model's alias cannot be its own name", "aliases")
        await ensure_names_free(session, changes["aliases"], model_id=model.id)
    apply_changes(model, changes)
    audit.record(session, ctx, action="model.update", target=model, before=before,
                 after=audit.snapshot(model))
    await save_config(session, model)
    return model


async def delete_model(
    session: AsyncSession, *, ctx: AuditContext, model: models.GatewayModel
) -> None:
    used = await session.exec(
        select(models.Deployment).where(models.Deployment.public_model == model.name)
    )
    if used.first() is not None:
        raise Conflict(f"model {model.name!r} still has deployments; delete them first")
    audit.record(session, ctx, action="model.delete", target=model, before=audit.snapshot(model))
    await session.delete(model)
    await bump_revision(session)
    await session.commit()


async def create_deployment(
    session: AsyncSession, *, ctx: AuditContext, cipher: CredentialCipher, api_key: str,
    model: str, **fields: Any,
) -> models.Deployment:
    found = await session.exec(select(models.GatewayModel).where(models.GatewayModel.name == model))
    if not found.first():
        raise NotFound(f"model {model!r} not found; create it first")
    await ensure_unique_name(session, models.Deployment, fields["name"])
    deployment = models.Deployment(
        public_model=model,
        credential_encrypted=cipher.encrypt(api_key),
        credential_fingerprint=fingerprint(api_key),
        **fields,
    )
    audit.record(session, ctx, action="deployment.create", target=deployment,
                 after=audit.snapshot(deployment))
    await save_config(session, deployment)
    return deployment


async def update_deployment(
    session: AsyncSession, *, ctx: AuditContext, cipher: CredentialCipher,
    deployment: models.Deployment, changes: dict[str, Any], api_key: str | None,
) -> models.Deployment:
    before = audit.snapshot(deployment)
    if "public_model" in changes:
        await ensure_models_exist(session, [changes["public_model"]], "model")
    apply_changes(deployment, changes)
    if api_key is not None:
        deployment.credential_encrypted = cipher.encrypt(api_key)
        deployment.credential_fingerprint = fingerprint(api_key)
    deployment.updated_at = models.utcnow()
    audit.record(session, ctx, action="deployment.update", target=deployment, before=before,
                 after=audit.snapshot(deployment))
    await save_config(session, deployment)
    return deployment


async def delete_deployment(
    session: AsyncSession, *, ctx: AuditContext, deployment: models.Deployment
) -> None:
    audit.record(session, ctx, action="deployment.delete", target=deployment,
                 before=audit.snapshot(deployment))
    objectives = await session.exec(
        select(models.SliObjective).where(models.SliObjective.deployment_id == deployment.id)
    )
    for objective in objectives.all():  # its incidents stay: they are history
        await session.delete(objective)
    await session.delete(deployment)
    await bump_revision(session)
    await session.commit()
