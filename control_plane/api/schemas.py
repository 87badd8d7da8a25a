"""API shapes: what clients send (`*Create`) and what they get back (`*Public`)."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

T = TypeVar("T")
Provider = Literal[
    "openai", "azure", "anthropic", "bedrock", "vertex", "gemini", "mistral", "groq",
    "openrouter", "cerebras",
]

NAME = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$")


class Page(BaseModel, Generic[T]):
    data: list[T]
    limit: int
    offset: int
    has_more: bool


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = NAME


class TenantPublic(BaseModel):
    id: str
    name: str
    created_at: datetime


class ModelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = NAME
    owned_by: str = "omg"


class ModelPublic(BaseModel):
    id: str
    name: str
    owned_by: str
    created_at: datetime


class DeploymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = NAME
    model: str = Field(min_length=1, description="public model name it serves")
    provider: Provider = "openai"
    base_url: HttpUrl = Field(description="e.g. https://api.openai.com/v1")
    upstream_model: str = ""
    api_key: str = Field(
        default="",
        description="provider credential, stored encrypted: an API key; for bedrock a JSON "
        "object {access_key_id, secret_access_key[, session_token]}; for vertex a "
        "service-account JSON key",
    )
    options: dict[str, str] = Field(
        default_factory=dict,
        description="provider options: azure api_version/deployment, bedrock region, "
        "vertex project/location, anthropic anthropic_version",
    )
    weight: int = Field(default=1, ge=0, le=1000)
    priority: int = Field(default=0, ge=0, le=100)
    timeout_s: float = Field(default=600.0, gt=0, le=3600)
    enabled: bool = True


class DeploymentPublic(BaseModel):
    id: str
    name: str
    model: str
    provider: str
    base_url: str
    upstream_model: str
    options: dict[str, str]
    credential_fingerprint: str
    weight: int
    priority: int
    timeout_s: float
    enabled: bool
    created_at: datetime


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: str
    name: str = NAME
    expires_at: datetime | None = None
    allowed_models: list[str] = Field(default_factory=list)


class KeyPublic(BaseModel):
    id: str
    tenant_id: str
    name: str
    prefix: str
    allowed_models: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyPublic):
    secret: str = Field(description="shown once; only its hash is stored")


class UsagePublic(BaseModel):
    request_id: str
    created_at: datetime
    tenant_id: str
    api_key_id: str
    model: str
    deployment_id: str
    provider: str
    endpoint: str
    status: int
    error_type: str
    stream: bool
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    latency_ms: float
    ttft_ms: float | None
