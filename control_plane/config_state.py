"""The gateway configuration as ext_proc sees it: loaded from the database, diffed by id.

A diff sends only what changed, so revoking one key among 100k sends one delete.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import models
from control_plane.budget_state import changed_budgets, load_budgets, load_prices, with_prices
from control_plane.crypto import CredentialCipher
from protos import config_pb2


@dataclass(frozen=True, slots=True)
class GatewayState:
    keys: dict[str, config_pb2.ApiKey]
    deployments: dict[str, config_pb2.Deployment]
    models: dict[str, config_pb2.Model]
    tenant_limits: dict[str, config_pb2.TenantLimits] = field(default_factory=dict)
    budgets: dict[str, config_pb2.Budget] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.keys or self.deployments or self.models or self.tenant_limits
                    or self.budgets)


EMPTY_STATE = GatewayState({}, {}, {})


def epoch_ms(value: datetime | None) -> int:
    if value is None:
        return 0
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def cluster_name(deployment_id: str) -> str:
    return f"omg_dep_{deployment_id}"


def key_to_proto(key: models.ApiKey) -> config_pb2.ApiKey:
    return config_pb2.ApiKey(
        id=key.id,
        key_hash=key.key_hash,
        tenant_id=key.tenant_id,
        user_id=key.user_id or "",
        expires_at_ms=epoch_ms(key.expires_at),
        allowed_models=key.allowed_models or [],
        name=key.name,
        rpm_limit=key.rpm_limit or 0,
        tpm_limit=key.tpm_limit or 0,
    )


def tenant_limits_to_protos(
    tenants: Iterable[models.Tenant],
) -> dict[str, config_pb2.TenantLimits]:
    """By tenant id; a tenant without a limit is not sent at all."""
    return {
        t.id: config_pb2.TenantLimits(
            tenant_id=t.id, rpm_limit=t.rpm_limit or 0, tpm_limit=t.tpm_limit or 0
        )
        for t in tenants
        if t.rpm_limit or t.tpm_limit
    }


PREVIOUS_SUFFIX = ":previous"


def previous_key_to_proto(key: models.ApiKey, now_ms: int) -> config_pb2.ApiKey | None:
    """The secret replaced by a rotation, as its own key until the grace period ends.

    ext_proc indexes keys by hash and checks expiry on every request, so the grace period
    needs nothing from it: this entry simply expires.
    """
    grace_end = epoch_ms(key.previous_expires_at)
    if not key.previous_key_hash or grace_end <= now_ms:
        return None
    key_end = epoch_ms(key.expires_at)
    proto = key_to_proto(key)
    proto.id = f"{key.id}{PREVIOUS_SUFFIX}"
    proto.key_hash = key.previous_key_hash
    proto.expires_at_ms = min(grace_end, key_end) if key_end else grace_end
    return proto


def keys_to_protos(keys: Iterable[models.ApiKey], now_ms: int) -> dict[str, config_pb2.ApiKey]:
    """By id; a key comes before its previous secret, so an update applies in that order."""
    protos: dict[str, config_pb2.ApiKey] = {}
    for key in keys:
        protos[key.id] = key_to_proto(key)
        previous = previous_key_to_proto(key, now_ms)
        if previous is not None:
            protos[previous.id] = previous
    return protos


# A drained deployment (an SLI incident asked for it) sorts after every healthy one, so routing
# prefers the others and still falls back to it when nothing else is left.
DRAINED_PRIORITY_OFFSET = 1000


def effective_priority(dep: models.Deployment) -> int:
    return dep.priority + (DRAINED_PRIORITY_OFFSET if dep.drained else 0)


def deployment_to_proto(dep: models.Deployment, cipher: CredentialCipher) -> config_pb2.Deployment:
    return config_pb2.Deployment(
        id=dep.id,
        name=dep.name,
        model=dep.public_model,
        provider=dep.provider,
        base_url=dep.base_url,
        upstream_model=dep.upstream_model,
        credential=cipher.decrypt(dep.credential_encrypted),
        weight=dep.weight,
        priority=effective_priority(dep),
        timeout_s=dep.timeout_s,
        cluster=cluster_name(dep.id),
        options=dep.options or {},
        context_window=dep.context_window or 0,
    )


def model_to_proto(model: models.GatewayModel) -> config_pb2.Model:
    return config_pb2.Model(
        name=model.name, created_at_ms=epoch_ms(model.created_at), owned_by=model.owned_by,
        aliases=model.aliases or [], retry_on=model.retry_on or "",
        num_retries=model.num_retries or 0,
    )


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def base_url_parts(base_url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path prefix without trailing slash) of a deployment's base URL."""
    parts = urlsplit(base_url)
    scheme = parts.scheme or "http"
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, parts.hostname or "", port, parts.path.rstrip("/")


async def load_state(session: AsyncSession, cipher: CredentialCipher) -> GatewayState:
    active = select(models.ApiKey).where(col(models.ApiKey.revoked_at).is_(None))
    keys = (await session.exec(active)).all()
    gateway_models = (await session.exec(select(models.GatewayModel))).all()
    deployments = (
        await session.exec(select(models.Deployment).where(col(models.Deployment.enabled)))
    ).all()
    limited = select(models.Tenant).where(
        col(models.Tenant.rpm_limit).is_not(None) | col(models.Tenant.tpm_limit).is_not(None)
    )
    tenants = (await session.exec(limited)).all()
    now = datetime.now(UTC)
    deployment_protos = {d.id: deployment_to_proto(d, cipher) for d in deployments}
    with_prices(deployment_protos.values(), await load_prices(session, epoch_ms(now)))
    return GatewayState(
        keys=keys_to_protos(keys, epoch_ms(now)),
        deployments=deployment_protos,
        models={m.name: model_to_proto(m) for m in gateway_models},
        tenant_limits=tenant_limits_to_protos(tenants),
        budgets=await load_budgets(session, now),
    )


def _changes(old: dict, new: dict) -> tuple[list, list[str]]:  # type: ignore[type-arg]
    upserts = [value for key, value in new.items() if old.get(key) != value]
    deletes = [key for key in old if key not in new]
    return upserts, deletes


def diff_states(
    old: GatewayState, new: GatewayState, version: str
) -> config_pb2.ConfigUpdate | None:
    keys, dead_keys = _changes(old.keys, new.keys)
    deps, dead_deps = _changes(old.deployments, new.deployments)
    mods, dead_mods = _changes(old.models, new.models)
    limits, dead_limits = _changes(old.tenant_limits, new.tenant_limits)
    budgets, dead_budgets = changed_budgets(old.budgets, new.budgets)
    if not (keys or dead_keys or deps or dead_deps or mods or dead_mods or limits
            or dead_limits or budgets or dead_budgets):
        return None
    return config_pb2.ConfigUpdate(
        version=version,
        upsert_keys=keys,
        delete_keys=dead_keys,
        upsert_deployments=deps,
        delete_deployments=dead_deps,
        upsert_models=mods,
        delete_models=dead_mods,
        upsert_tenant_limits=limits,
        delete_tenant_limits=dead_limits,
        upsert_budgets=budgets,
        delete_budgets=dead_budgets,
    )


def full_update(state: GatewayState, version: str) -> config_pb2.ConfigUpdate:
    return config_pb2.ConfigUpdate(
        version=version,
        full=True,
        upsert_keys=state.keys.values(),
        upsert_deployments=state.deployments.values(),
        upsert_models=state.models.values(),
        upsert_tenant_limits=state.tenant_limits.values(),
        upsert_budgets=state.budgets.values(),
    )
