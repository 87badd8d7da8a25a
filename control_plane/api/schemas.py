"""API shapes: what clients send (`*Create`) and what they get back (`*Public`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    computed_field,
    field_validator,
)

from control_plane.crud_tenants import PERSONAL_PREFIX
from control_plane.xds.protection import invalid_options
from omg_common.money import pico_to_usd

T = TypeVar("T")


def as_utc(value: datetime) -> datetime:
    """Times are UTC: a time without an offset (SQLite keeps none) is read as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Timestamp = Annotated[datetime, AfterValidator(as_utc)]
Provider = Literal[
    "openai", "azure", "anthropic", "bedrock", "vertex", "gemini", "mistral", "groq",
    "openrouter", "cerebras",
]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$"
NAME = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)


class Page(BaseModel, Generic[T]):
    """One page of a list in a stable order; ask for the next with offset + limit."""

    data: list[T]
    limit: int
    offset: int
    has_more: bool


class TenantUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = NAME

    @field_validator("name")
    @classmethod
    def not_personal(cls, name: str) -> str:
        if name.startswith(PERSONAL_PREFIX):
            raise ValueError(f"names starting with {PERSONAL_PREFIX!r} are kept for users")
        return name


RATE_LIMIT = Field(default=None, ge=1, description="per minute, shared by all the tenant's "
                                                   "keys; none: no limit")


class TenantRateLimits(BaseModel):
    """Replaces both limits: a limit left out is removed."""

    model_config = ConfigDict(extra="forbid")
    rpm_limit: int | None = RATE_LIMIT
    tpm_limit: int | None = RATE_LIMIT


class TenantCreate(TenantUpdate, TenantRateLimits):
    pass


class TenantPublic(BaseModel):
    id: str
    name: str
    personal_user_id: str | None
    rpm_limit: int | None
    tpm_limit: int | None
    created_at: Timestamp


AliasName = Annotated[str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN)]
RETRY_ON_DOC = ("Envoy retry conditions for fail-over, comma-separated (e.g. "
                "'connect-failure,reset,5xx,retriable-status-codes'); empty: that default. "
                "retriable-status-codes retries 429.")
RETRY_CONDITIONS = frozenset({
    "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure",
    "envoy-ratelimited", "retriable-4xx", "refused-stream", "retriable-status-codes",
    "http3-post-connect-failure",
})


def valid_retry_on(value: str) -> str:
    conditions = [c.strip() for c in value.split(",") if c.strip()]
    unknown = sorted(set(conditions) - RETRY_CONDITIONS)
    if unknown:
        raise ValueError(f"unknown retry conditions {unknown}; known: {sorted(RETRY_CONDITIONS)}")
    return ",".join(conditions)


def distinct_aliases(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("aliases must be distinct")
    return value


RetryOn = Annotated[str, Field(max_length=300, description=RETRY_ON_DOC),
                    AfterValidator(valid_retry_on)]
Aliases = Annotated[list[AliasName], Field(max_length=20, description=(
    "other public names of this model; a key allowed any name of the model may use all "
    "its names")), AfterValidator(distinct_aliases)]
NumRetries = Annotated[int | None, Field(default=None, ge=0, le=10, description=(
    "fail-over retries; unset: one per other enabled deployment"))]


class ModelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = NAME
    owned_by: str = "omg"
    aliases: Aliases = []
    retry_on: RetryOn = ""
    num_retries: NumRetries = None


class ModelUpdate(BaseModel):
    """Only the fields sent change; `aliases` replaces the list."""

    model_config = ConfigDict(extra="forbid")
    owned_by: str | None = None
    aliases: Aliases | None = None
    retry_on: RetryOn | None = None
    num_retries: NumRetries = None


class ModelPublic(BaseModel):
    id: str
    name: str
    owned_by: str
    aliases: list[str]
    retry_on: str
    num_retries: int | None
    created_at: Timestamp

    @field_validator("aliases", mode="before")
    @classmethod
    def no_aliases(cls, value: list[str] | None) -> list[str]:
        return value or []


ContextWindow = Annotated[int | None, Field(
    default=None, ge=1, le=100_000_000,
    description="tokens the upstream model accepts (prompt + completion); unset: unknown")]


def checked_options(options: dict[str, str]) -> dict[str, str]:
    bad = invalid_options(options)
    if bad:
        raise ValueError(f"options {bad} take a non-negative integer")
    return options


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
    api_key_env: str = Field(default="", max_length=200,
                             description="the environment variable it came from, if any")
    weight: int = Field(default=1, ge=0, le=1000)
    priority: int = Field(default=0, ge=0, le=100)
    timeout_s: float = Field(default=600.0, gt=0, le=3600)
    context_window: ContextWindow = None
    enabled: bool = True

    @field_validator("options")
    @classmethod
    def protection_options(cls, value: dict[str, str]) -> dict[str, str]:
        return checked_options(value)


class DeploymentUpdate(BaseModel):
    """Only the fields sent change; `api_key` replaces the credential."""

    model_config = ConfigDict(extra="forbid")
    model: str | None = Field(default=None, min_length=1)
    provider: Provider | None = None
    base_url: HttpUrl | None = None
    upstream_model: str | None = None
    api_key: str | None = None
    api_key_env: str | None = Field(default=None, max_length=200)
    options: dict[str, str] | None = None
    weight: int | None = Field(default=None, ge=0, le=1000)
    priority: int | None = Field(default=None, ge=0, le=100)
    timeout_s: float | None = Field(default=None, gt=0, le=3600)
    context_window: ContextWindow = None
    enabled: bool | None = None

    @field_validator("options")
    @classmethod
    def protection_options(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else checked_options(value)


class DeploymentPublic(BaseModel):
    id: str
    name: str
    model: str
    provider: str
    base_url: str
    upstream_model: str
    options: dict[str, str]
    credential_fingerprint: str
    api_key_env: str
    weight: int
    priority: int
    timeout_s: float
    context_window: int | None
    enabled: bool
    drained: bool = False
    created_at: Timestamp


class UsagePublic(BaseModel):
    request_id: str
    created_at: Timestamp
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
    attempts: int = Field(description="upstream attempts (fail-over); 0: not known")
    cost_pico: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_usd(self) -> str:
        return pico_to_usd(self.cost_pico)


class ProviderSync(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deployment: str = Field(min_length=1, description="template deployment (id or name)")
    prefix: str = Field(default="", max_length=100, description="prepended to model names")


class ProviderSyncResult(BaseModel):
    created: list[str]
    existing: list[str]
