"""Data-plane API keys (service and personal), their rotation, and key policies."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import audit, models
from control_plane.audit import AuditContext
from control_plane.crud import Conflict, NotFound, ensure_models_exist, save_config
from control_plane.key_policy import KeyLimits, KeyTerms, check_capacity, combine, enforce
from omg_common.keys import hash_secret, new_secret, visible_prefix


async def get_key(session: AsyncSession, *, tenant_id: str, key_id: str) -> models.ApiKey:
    """A key of this tenant; another tenant's key is not found, like a missing one."""
    key = await session.get(models.ApiKey, key_id)
    if key is None or key.tenant_id != tenant_id:
        raise NotFound(f"api key {key_id!r} not found")
    return key


async def _policies(
    session: AsyncSession, tenant_id: str, user_id: str | None
) -> list[models.KeyPolicy]:
    statement = select(models.KeyPolicy).where(
        models.KeyPolicy.tenant_id == tenant_id,
        or_(col(models.KeyPolicy.user_id).is_(None), col(models.KeyPolicy.user_id) == user_id),
    )
    return list((await session.exec(statement)).all())


def policy_limits(policy: models.KeyPolicy) -> KeyLimits:
    models_ = frozenset(policy.allowed_models) if policy.allowed_models else None
    return KeyLimits(policy.max_rpm, policy.max_tpm, models_)


async def _active_keys(session: AsyncSession, tenant_id: str, user_id: str | None) -> int:
    now = models.utcnow()
    statement = select(func.count()).select_from(models.ApiKey).where(
        models.ApiKey.tenant_id == tenant_id,
        col(models.ApiKey.revoked_at).is_(None),
        or_(col(models.ApiKey.expires_at).is_(None), col(models.ApiKey.expires_at) > now),
    )
    if user_id is not None:
        statement = statement.where(models.ApiKey.user_id == user_id)
    return int((await session.exec(statement)).one())


async def _check_capacity(
    session: AsyncSession, policies: list[models.KeyPolicy], tenant_id: str, user_id: str | None
) -> None:
    for policy in policies:
        if policy.max_keys is None:
            continue
        active = await _active_keys(session, tenant_id, policy.user_id)
        whose = "this user" if policy.user_id else "this tenant"
        check_capacity(policy.max_keys, active, whose)


async def _enforced_terms(
    session: AsyncSession, policies: list[models.KeyPolicy], terms: KeyTerms
) -> KeyTerms:
    enforced = enforce(terms, combine([policy_limits(p) for p in policies]))
    await ensure_models_exist(session, enforced.allowed_models, "allowed_models")
    return enforced


async def create_api_key(
    session: AsyncSession, *, ctx: AuditContext, tenant_id: str, name: str,
    user_id: str | None = None, expires_at: datetime | None = None,
    allowed_models: list[str] | None = None, rpm_limit: int | None = None,
    tpm_limit: int | None = None, secret: str | None = None,
) -> tuple[models.ApiKey, str]:
    if user_id is not None and await session.get(models.Membership, (tenant_id, user_id)) is None:
        raise NotFound(f"user {user_id!r} is not a member of this tenant")
    policies = await _policies(session, tenant_id, user_id)
    await _check_capacity(session, policies, tenant_id, user_id)
    terms = await _enforced_terms(
        session, policies, KeyTerms(rpm_limit, tpm_limit, allowed_models or [])
    )
    secret = secret or new_secret()
    key = models.ApiKey(
        tenant_id=tenant_id, user_id=user_id, name=name, prefix=visible_prefix(secret),
        key_hash=hash_secret(secret), expires_at=expires_at,
        allowed_models=list(terms.allowed_models), rpm_limit=terms.rpm_limit,
        tpm_limit=terms.tpm_limit,
    )
    audit.record(session, ctx, action="key.create", target=key, tenant_id=tenant_id,
                 after=audit.snapshot(key))
    await save_config(session, key)
    return key, secret


async def update_api_key(
    session: AsyncSession, *, ctx: AuditContext, key: models.ApiKey, changes: dict[str, Any]
) -> models.ApiKey:
    if key.revoked_at is not None:
        raise Conflict("a revoked key cannot be changed")
    merged = {"rpm_limit": key.rpm_limit, "tpm_limit": key.tpm_limit,
              "allowed_models": key.allowed_models, **changes}
    policies = await _policies(session, key.tenant_id, key.user_id)
    terms = await _enforced_terms(session, policies, KeyTerms(
        merged["rpm_limit"], merged["tpm_limit"], merged["allowed_models"] or []
    ))
    before = audit.snapshot(key)
    for name, value in changes.items():
        setattr(key, name, value)
    key.rpm_limit, key.tpm_limit = terms.rpm_limit, terms.tpm_limit
    key.allowed_models = list(terms.allowed_models)
    audit.record(session, ctx, action="key.update", target=key, tenant_id=key.tenant_id,
                 before=before, after=audit.snapshot(key))
    await save_config(session, key)
    return key


async def rotate_api_key(
    session: AsyncSession, *, ctx: AuditContext, key: models.ApiKey, grace_seconds: int
) -> tuple[models.ApiKey, str]:
    """A new secret; the old one stays valid for `grace_seconds` (0: not at all)."""
    if key.revoked_at is not None:
        raise Conflict("a revoked key cannot be rotated")
    before = audit.snapshot(key)
    secret = new_secret()
    if grace_seconds > 0:
        key.previous_key_hash = key.key_hash
        key.previous_expires_at = models.utcnow() + timedelta(seconds=grace_seconds)
    else:
        key.previous_key_hash, key.previous_expires_at = None, None
    key.key_hash, key.prefix = hash_secret(secret), visible_prefix(secret)
    audit.record(session, ctx, action="key.rotate", target=key, tenant_id=key.tenant_id,
                 before=before, after=audit.snapshot(key))
    await save_config(session, key)
    return key, secret


async def revoke_api_key(
    session: AsyncSession, *, ctx: AuditContext, key: models.ApiKey
) -> models.ApiKey:
    if key.revoked_at is None:
        before = audit.snapshot(key)
        key.revoked_at = models.utcnow()
        key.previous_key_hash, key.previous_expires_at = None, None
        audit.record(session, ctx, action="key.revoke", target=key, tenant_id=key.tenant_id,
                     before=before, after=audit.snapshot(key))
        await save_config(session, key)
    return key


async def put_key_policy(
    session: AsyncSession, *, ctx: AuditContext, tenant_id: str, user_id: str | None,
    fields: dict[str, Any],
) -> tuple[models.KeyPolicy, bool]:
    """Create or replace the policy of a tenant (user_id None) or of one member. -> (row, new)."""
    if user_id is not None and await session.get(models.Membership, (tenant_id, user_id)) is None:
        raise NotFound(f"user {user_id!r} is not a member of this tenant")
    await ensure_models_exist(session, fields.get("allowed_models") or [], "allowed_models")
    user_match = (col(models.KeyPolicy.user_id).is_(None) if user_id is None
                  else col(models.KeyPolicy.user_id) == user_id)
    policy = (await session.exec(select(models.KeyPolicy).where(
        models.KeyPolicy.tenant_id == tenant_id, user_match
    ))).first()
    created = policy is None
    before = None if policy is None else audit.snapshot(policy)
    policy = policy or models.KeyPolicy(tenant_id=tenant_id, user_id=user_id)
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.updated_at = models.utcnow()
    action = "key_policy.create" if created else "key_policy.update"
    audit.record(session, ctx, action=action, target=policy, tenant_id=tenant_id,
                 before=before, after=audit.snapshot(policy))
    session.add(policy)
    await session.commit()
    return policy, created


async def get_key_policy(
    session: AsyncSession, *, tenant_id: str, policy_id: str
) -> models.KeyPolicy:
    policy = await session.get(models.KeyPolicy, policy_id)
    if policy is None or policy.tenant_id != tenant_id:
        raise NotFound(f"key policy {policy_id!r} not found")
    return policy


async def delete_key_policy(
    session: AsyncSession, *, ctx: AuditContext, policy: models.KeyPolicy
) -> None:
    audit.record(session, ctx, action="key_policy.delete", target=policy,
                 tenant_id=policy.tenant_id, before=audit.snapshot(policy))
    await session.delete(policy)
    await session.commit()
