"""API shapes for prices, budgets, overrides and alert channels.

Money crosses the API as decimal strings of USD (prices: USD per million tokens), so nothing
is lost to floats; numbers are accepted on input too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field

from control_plane.api.schemas import Timestamp
from omg_common.money import micro_to_price, pico_to_usd, price_to_micro, usd_to_pico
from omg_common.periods import valid_timezone


def _checked(convert: object) -> AfterValidator:
    def check(value: Decimal) -> Decimal:
        convert(value)  # type: ignore[operator]
        return value

    return AfterValidator(check)


def _timezone(name: str) -> str:
    if not valid_timezone(name):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)")
    return name


Usd = Annotated[Decimal, Field(ge=0), _checked(usd_to_pico)]
PricePerM = Annotated[Decimal, Field(ge=0), _checked(price_to_micro)]
Period = Literal["daily", "weekly", "monthly", "total"]
Scope = Literal["tenant", "user", "key"]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Thresholds = Annotated[list[Annotated[int, Field(ge=1, le=99)]], Field(max_length=10)]


class PriceCreate(BaseModel):
    """USD per million tokens. Unset cached: the input price; unset reasoning: the output."""

    model_config = ConfigDict(extra="forbid")
    input: PricePerM
    output: PricePerM
    cached_input: PricePerM | None = None
    reasoning: PricePerM | None = None
    effective_from: Timestamp | None = Field(default=None, description="default: now")


class PricePublic(BaseModel):
    id: str
    deployment_id: str
    effective_from: Timestamp
    input_micro: int
    output_micro: int
    cached_input_micro: int | None
    reasoning_micro: int | None
    created_by: str
    created_at: Timestamp

    @computed_field  # type: ignore[prop-decorator]
    @property
    def input(self) -> str:
        return micro_to_price(self.input_micro)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def output(self) -> str:
        return micro_to_price(self.output_micro)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cached_input(self) -> str | None:
        micro = self.cached_input_micro
        return None if micro is None else micro_to_price(micro)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reasoning(self) -> str | None:
        micro = self.reasoning_micro
        return None if micro is None else micro_to_price(micro)


class BudgetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: Scope
    subject_id: str = Field(default="", description="user or key id; empty for the tenant")
    limit_usd: Usd
    period: Period
    timezone: TimeZone = "UTC"
    soft_thresholds: Thresholds = Field(default_factory=lambda: [80],
                                        description="percent of the limit that alerts")


class BudgetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit_usd: Usd | None = None
    timezone: TimeZone | None = None
    soft_thresholds: Thresholds | None = None


class OverrideCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit_usd: Usd
    expires_at: Timestamp
    reason: str = Field(min_length=1, max_length=500)


class OverridePublic(BaseModel):
    id: str
    budget_id: str
    limit_pico: int
    expires_at: Timestamp
    reason: str
    created_by: str
    created_at: Timestamp
    revoked_at: Timestamp | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def limit_usd(self) -> str:
        return pico_to_usd(self.limit_pico)


class BudgetPublic(BaseModel):
    id: str
    tenant_id: str
    scope: str
    subject_id: str
    limit_pico: int
    period: str
    timezone: str
    soft_thresholds: list[int]
    created_at: Timestamp
    updated_at: Timestamp
    period_start: Timestamp | None = None
    spent_pico: int = 0  # in the current period, from stored usage records
    override: OverridePublic | None = None  # the one in force

    @computed_field  # type: ignore[prop-decorator]
    @property
    def limit_usd(self) -> str:
        return pico_to_usd(self.limit_pico)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def spent_usd(self) -> str:
        return pico_to_usd(self.spent_pico)


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["webhook", "email"]
    target: str = Field(min_length=3, max_length=2000,
                        description="webhook URL, or comma-separated email addresses")


class ChannelPublic(BaseModel):
    id: str
    tenant_id: str | None
    name: str
    kind: str
    target: str
    enabled: bool
    created_at: Timestamp


class ChannelCreated(ChannelPublic):
    secret: str = Field(description="webhook signing secret: shown once, never again")


class DeliveryPublic(BaseModel):
    channel_id: str
    attempt: int
    ok: bool
    error: str
    created_at: Timestamp


class AlertPublic(BaseModel):
    id: str
    tenant_id: str | None
    kind: str
    dedup_key: str
    payload: dict  # type: ignore[type-arg]
    created_at: Timestamp
    deliveries: list[DeliveryPublic] = Field(default_factory=list)
