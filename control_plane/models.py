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


class Tenant(SQLModel, table=True):
    id: str = Field(default_factory=lambda: new_id("ten"), primary_key=True)
    name: str = Field(unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: str = Field(default_factory=lambda: new_id("key"), primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True)
    name: str
    prefix: str
    key_hash: str = Field(unique=True, index=True)
    allowed_models: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class AdminToken(SQLModel, table=True):
    __tablename__ = "admin_token"

    id: str = Field(default_factory=lambda: new_id("adm"), primary_key=True)
    name: str
    token_hash: str = Field(unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class GatewayModel(SQLModel, table=True):
    """A public model name that clients ask for."""

    __tablename__ = "gateway_model"

    id: str = Field(default_factory=lambda: new_id("mdl"), primary_key=True)
    name: str = Field(unique=True, index=True)
    owned_by: str = "omg"
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
    weight: int = 1
    priority: int = 0
    timeout_s: float = 600.0
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


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


class ConfigRevision(SQLModel, table=True):
    """One row, bumped by every config write: replicas poll it instead of every table."""

    __tablename__ = "config_revision"

    id: int = Field(default=1, primary_key=True)
    revision: int = 0
