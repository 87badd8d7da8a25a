"""Database tables (SQLModel). API shapes live in `control_plane/api/schemas.py`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def _ts(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(sa.DateTime(timezone=True), nullable=nullable)


def _money(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    """Exact integer money (pico-USD or micro-USD per million tokens) needs 64 bits."""
    return Column(sa.BigInteger(), nullable=nullable, server_default=None if nullable else "0")


class Tenant(SQLModel, table=True):
    id: str = Field(default_factory=lambda: new_id("ten"), primary_key=True)
    name: str = Field(unique=True, index=True)
    # Set on a user's personal tenant: it lives and dies with that user.
    personal_user_id: str | None = Field(default=None, index=True)
    # Shared by all the tenant's keys, on top of each key's own limits. None: no limit.
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: str = Field(default_factory=lambda: new_id("key"), primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True)
    name: str
    prefix: str
    key_hash: str = Field(unique=True, index=True)
    # A personal key belongs to this user's membership in the tenant; a service key has none.
    user_id: str | None = Field(default=None, foreign_key="user.id", index=True)
    allowed_models: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    # The secret replaced by the last rotation, still valid until `previous_expires_at`.
    previous_key_hash: str | None = Field(default=None, index=True)
    previous_expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class GatewayModel(SQLModel, table=True):
    """A public model name that clients ask for."""

    __tablename__ = "gateway_model"

    id: str = Field(default_factory=lambda: new_id("mdl"), primary_key=True)
    name: str = Field(unique=True, index=True)
    owned_by: str = "omg"
    # Other public names for this model; unique across all models' names and aliases.
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    # Fail-over (models with several enabled deployments): Envoy `retry_on` ("" = default)
    # and the number of retries (None = one per other deployment).
    retry_on: str = ""
    num_retries: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Deployment(SQLModel, table=True):
    """One upstream (provider + endpoint + model) that serves a public model."""

    id: str = Field(default_factory=lambda: new_id("dep"), primary_key=True)
    name: str = Field(unique=True, index=True)
    public_model: str = Field(foreign_key="gateway_model.name", index=True)
    provider: str = "openai"
    base_url: str
    upstream_model: str = ""
    credential_encrypted: str = ""
    credential_fingerprint: str = ""
    options: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    # The environment variable the credential came from (config as code writes it back).
    api_key_env: str = ""
    weight: int = 1
    priority: int = 0
    timeout_s: float = 600.0
    context_window: int | None = None  # tokens; None: unknown
    enabled: bool = True
    # Set while an incident of an SLI with `drain` is open: routing prefers other deployments.
    drained: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class User(SQLModel, table=True):
    id: str = Field(default_factory=lambda: new_id("usr"), primary_key=True)
    name: str = Field(unique=True, index=True)
    email: str = ""
    # A platform role (scope "platform") grants its permissions everywhere.
    platform_role: str | None = Field(default=None, foreign_key="role.name")
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Permission(SQLModel, table=True):
    name: str = Field(primary_key=True)  # e.g. "keys:write"
    scope: str  # "tenant": grantable by tenant roles; "platform": platform roles only
    description: str = ""


class Role(SQLModel, table=True):
    name: str = Field(primary_key=True)
    scope: str  # "tenant" or "platform"
    description: str = ""
    builtin: bool = True


class RolePermission(SQLModel, table=True):
    __tablename__ = "role_permission"

    role: str = Field(foreign_key="role.name", primary_key=True)
    permission: str = Field(foreign_key="permission.name", primary_key=True)


class Membership(SQLModel, table=True):
    tenant_id: str = Field(foreign_key="tenant.id", primary_key=True)
    user_id: str = Field(foreign_key="user.id", primary_key=True, index=True)
    role: str = Field(foreign_key="role.name")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class PersonalAccessToken(SQLModel, table=True):
    """How admin API callers authenticate; only the SHA-256 of the secret is stored."""

    __tablename__ = "pat"

    id: str = Field(default_factory=lambda: new_id("pat"), primary_key=True)
    user_id: str = Field(foreign_key="user.id", index=True)
    name: str
    prefix: str
    token_hash: str = Field(unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class KeyPolicy(SQLModel, table=True):
    """Limits on the keys of a tenant (user_id None) or of one user in it. None: no limit."""

    __tablename__ = "key_policy"

    id: str = Field(default_factory=lambda: new_id("kpl"), primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True)
    user_id: str | None = Field(default=None, foreign_key="user.id")
    max_keys: int | None = None
    max_rpm: int | None = None
    max_tpm: int | None = None
    allowed_models: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AuditEvent(SQLModel, table=True):
    """Append-only: written in the transaction of the mutation it describes, never changed."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_created_at", "created_at", "id"),)

    id: str = Field(default_factory=lambda: new_id("aud"), primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    actor_id: str = Field(index=True)
    actor_name: str = ""
    tenant_id: str | None = Field(default=None, index=True)
    action: str = Field(index=True)  # e.g. "key.create"
    target_type: str
    target_id: str
    before: dict | None = Field(default=None, sa_column=Column(JSON))  # type: ignore[type-arg]
    after: dict | None = Field(default=None, sa_column=Column(JSON))  # type: ignore[type-arg]
    source_ip: str = ""
    request_id: str = ""


class UsageRecord(SQLModel, table=True):
    __tablename__ = "usage_record"
    __table_args__ = (sa.Index("ix_usage_record_created_at", "created_at"),)

    request_id: str = Field(primary_key=True)
    created_at: datetime = Field(sa_column=_ts())
    tenant_id: str = Field(index=True)
    api_key_id: str = Field(index=True)
    model: str = ""
    deployment_id: str = ""
    provider: str = ""
    endpoint: str = ""
    status: int = 0
    error_type: str = ""
    stream: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    attempts: int = 0  # upstream attempts (fail-over); 0: not known
    cost_pico: int = Field(default=0, sa_column=_money())  # pico-USD (1e-12)
    refused_by_budget: str = Field(default="", sa_column=Column(
        sa.String(), nullable=False, server_default=""))  # the budget that said 429


class FailedAttempt(SQLModel, table=True):
    """A fail-over attempt that failed, though another deployment may have answered the
    request (the usage record names only that one): SLIs count it against its deployment."""

    __tablename__ = "failed_attempt"
    __table_args__ = (sa.Index("ix_failed_attempt_created_at", "created_at"),)

    request_id: str = Field(primary_key=True)
    deployment_id: str = Field(primary_key=True, index=True)
    created_at: datetime = Field(sa_column=_ts())
    provider: str = ""
    model: str = ""
    status: int = 0  # 0: no answer (reset, timeout, refused)
    latency_ms: float = 0.0


class ConfigRevision(SQLModel, table=True):
    """One row, bumped by every config write: replicas poll it instead of every table."""

    __tablename__ = "config_revision"

    id: int = Field(default=1, primary_key=True)
    revision: int = 0


class SliObjective(SQLModel, table=True):
    """A service-level indicator of one deployment, its threshold, and its evaluation state.

    The streaks live in this row (not in a process), so a restart or another control-plane
    replica carries on where the last evaluator stopped.
    """

    __tablename__ = "sli_objective"

    id: str = Field(default_factory=lambda: new_id("sli"), primary_key=True)
    deployment_id: str = Field(index=True)
    kind: str  # control_plane.sli.rules.SliKind
    threshold: float
    window_s: int = 300
    min_requests: int = 10
    breach_windows: int = 2  # consecutive breaching evaluations that open an incident
    recover_windows: int = 2  # consecutive healthy evaluations that resolve it
    drain: bool = False  # an open incident drains the deployment
    enabled: bool = True
    breaching: int = 0
    healthy: int = 0
    last_value: float | None = None
    last_evaluated_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Incident(SQLModel, table=True):
    """A breach of an SLI, from the evaluation that opened it to the one that resolved it."""

    __table_args__ = (sa.Index("ix_incident_started_at", "started_at"),)

    id: str = Field(default_factory=lambda: new_id("inc"), primary_key=True)
    objective_id: str = Field(index=True)
    deployment_id: str = Field(index=True)
    deployment_name: str = ""
    kind: str
    threshold: float
    value: float  # the SLI's value when the incident opened
    peak: float  # the worst value seen while open
    last_value: float
    status: str = Field(default="open", index=True)  # "open" or "resolved"
    drained: bool = False
    started_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    resolved_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class LeaderLease(SQLModel, table=True):
    """Who runs a singleton job (e.g. the SLI evaluator) among control-plane replicas."""

    __tablename__ = "leader_lease"

    name: str = Field(primary_key=True)
    holder: str
    expires_at: datetime = Field(sa_column=_ts())
class DeploymentPrice(SQLModel, table=True):
    """One price version of a deployment, in micro-USD per million tokens; never changed."""

    __tablename__ = "deployment_price"
    __table_args__ = (sa.UniqueConstraint("deployment_id", "effective_from"),)

    id: str = Field(default_factory=lambda: new_id("prc"), primary_key=True)
    deployment_id: str = Field(index=True)
    effective_from: datetime = Field(sa_column=_ts())
    input_micro: int = Field(sa_column=_money())
    output_micro: int = Field(sa_column=_money())
    cached_input_micro: int | None = Field(default=None, sa_column=_money(nullable=True))
    reasoning_micro: int | None = Field(default=None, sa_column=_money(nullable=True))
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Budget(SQLModel, table=True):
    """A spending limit of a tenant, a member (scope "user") or a key, per calendar period."""

    __table_args__ = (sa.UniqueConstraint("tenant_id", "scope", "subject_id", "period"),)

    id: str = Field(default_factory=lambda: new_id("bud"), primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True)
    scope: str  # "tenant", "user" or "key"
    subject_id: str
    limit_pico: int = Field(sa_column=_money())
    period: str  # "daily", "weekly", "monthly" or "total"
    timezone: str = "UTC"
    soft_thresholds: list[int] = Field(default_factory=list, sa_column=Column(JSON))  # percent
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class BudgetOverride(SQLModel, table=True):
    """A temporary limit that replaces a budget's own until it expires (or is revoked)."""

    __tablename__ = "budget_override"

    id: str = Field(default_factory=lambda: new_id("bov"), primary_key=True)
    budget_id: str = Field(index=True)
    tenant_id: str = Field(index=True)
    limit_pico: int = Field(sa_column=_money())
    expires_at: datetime = Field(sa_column=_ts())
    reason: str = ""
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class AlertChannel(SQLModel, table=True):
    """Where alerts go: a tenant's, or the platform's (tenant_id None)."""

    __tablename__ = "alert_channel"

    id: str = Field(default_factory=lambda: new_id("ach"), primary_key=True)
    tenant_id: str | None = Field(default=None, index=True)
    name: str
    kind: str  # "webhook" or "email"
    target: str  # the URL, or comma-separated addresses
    secret_encrypted: str = ""  # webhook HMAC secret (Fernet)
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AlertEvent(SQLModel, table=True):
    """An alert fired: the unique dedup key makes it fire once, across restarts and replicas."""

    __tablename__ = "alert_event"

    id: str = Field(default_factory=lambda: new_id("alr"), primary_key=True)
    dedup_key: str = Field(unique=True, index=True)
    tenant_id: str | None = Field(default=None, index=True)
    kind: str  # e.g. "budget.threshold", "budget.exhausted"
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON))  # type: ignore[type-arg]
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AlertDelivery(SQLModel, table=True):
    """One delivery attempt of one alert to one channel: nothing is lost silently."""

    __tablename__ = "alert_delivery"

    id: str = Field(default_factory=lambda: new_id("adl"), primary_key=True)
    alert_id: str = Field(index=True)
    channel_id: str = Field(index=True)
    attempt: int
    ok: bool
    error: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
