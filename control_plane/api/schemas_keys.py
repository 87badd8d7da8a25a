"""API shapes of data-plane keys and key policies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from control_plane.api.schemas import NAME, NAME_PATTERN, Timestamp

MAX_GRACE_SECONDS = 30 * 24 * 3600
Limit = Field(default=None, ge=1, description="requests (or tokens) per minute; none: no limit")


class KeyTermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = NAME
    expires_at: Timestamp | None = None
    allowed_models: list[str] = Field(default_factory=list, description="empty: every model")
    rpm_limit: int | None = Limit
    tpm_limit: int | None = Limit


class SelfKeyCreate(KeyTermsIn):
    """A personal key in the caller's personal tenant."""


class KeyCreate(KeyTermsIn):
    user_id: str | None = Field(
        default=None, description="a member's id or name: a personal key; none: a service key"
    )


class KeyUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NAME_PATTERN)
    expires_at: Timestamp | None = None
    allowed_models: list[str] | None = None
    rpm_limit: int | None = Limit
    tpm_limit: int | None = Limit


class KeyRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_seconds: int = Field(
        default=0, ge=0, le=MAX_GRACE_SECONDS,
        description="how long the old secret keeps working; 0: it stops at once",
    )


class KeyPublic(BaseModel):
    id: str
    tenant_id: str
    user_id: str | None
    name: str
    prefix: str
    allowed_models: list[str]
    rpm_limit: int | None
    tpm_limit: int | None
    created_at: Timestamp
    expires_at: Timestamp | None
    revoked_at: Timestamp | None
    last_used_at: Timestamp | None
    previous_expires_at: Timestamp | None = Field(
        description="after a rotation with grace: until when the old secret works"
    )


class KeyCreated(KeyPublic):
    secret: str = Field(description="shown once; only its hash is stored")


class KeyPolicyPut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str | None = Field(
        default=None, description="a member's id or name; none: the whole tenant"
    )
    max_keys: int | None = Field(default=None, ge=0, description="active keys at most")
    max_rpm: int | None = Field(default=None, ge=1)
    max_tpm: int | None = Field(default=None, ge=1)
    allowed_models: list[str] = Field(default_factory=list, description="empty: every model")


class KeyPolicyPublic(BaseModel):
    id: str
    tenant_id: str
    user_id: str | None
    max_keys: int | None
    max_rpm: int | None
    max_tpm: int | None
    allowed_models: list[str]
    updated_at: Timestamp
