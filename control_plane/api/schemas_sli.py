"""API shapes for SLIs, incidents and provider health."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from control_plane.api.schemas import Timestamp
from control_plane.sli.rules import SliKind

_THRESHOLD = "breach when the value is above: milliseconds for *_ms, a fraction 0..1 for rates"


class SliCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deployment: str = Field(min_length=1, description="deployment id or name")
    kind: SliKind
    threshold: float = Field(gt=0, description=_THRESHOLD)
    window_s: int = Field(default=300, ge=1, le=86400, description="measured over this window")
    min_requests: int = Field(default=10, ge=1, le=100000,
                              description="fewer requests in the window: no judgement")
    breach_windows: int = Field(default=2, ge=1, le=100,
                                description="consecutive breaching evaluations to open")
    recover_windows: int = Field(default=2, ge=1, le=100,
                                 description="consecutive healthy evaluations to resolve")
    drain: bool = Field(default=False, description="an open incident drains the deployment")
    enabled: bool = True


class SliUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold: float | None = Field(default=None, gt=0, description=_THRESHOLD)
    window_s: int | None = Field(default=None, ge=1, le=86400)
    min_requests: int | None = Field(default=None, ge=1, le=100000)
    breach_windows: int | None = Field(default=None, ge=1, le=100)
    recover_windows: int | None = Field(default=None, ge=1, le=100)
    drain: bool | None = None
    enabled: bool | None = None


class SliPublic(BaseModel):
    id: str
    deployment_id: str
    kind: SliKind
    threshold: float
    window_s: int
    min_requests: int
    breach_windows: int
    recover_windows: int
    drain: bool
    enabled: bool
    breaching: int
    healthy: int
    last_value: float | None
    last_evaluated_at: Timestamp | None
    created_at: Timestamp


class IncidentPublic(BaseModel):
    id: str
    objective_id: str
    deployment_id: str
    deployment_name: str
    kind: SliKind
    threshold: float
    value: float
    peak: float
    last_value: float
    status: str
    drained: bool
    started_at: Timestamp
    resolved_at: Timestamp | None


class SliReading(BaseModel):
    id: str
    kind: SliKind
    threshold: float
    last_value: float | None
    last_evaluated_at: Timestamp | None
    breaching: int


class DeploymentHealth(BaseModel):
    id: str
    name: str
    model: str
    provider: str
    enabled: bool
    drained: bool
    envoy: str = Field(description="Envoy's live view: healthy, ejected (outlier detection), "
                       "failed_health_check, or unknown (no Envoy answered, or not routed)")
    status: str = Field(description="healthy; degraded (an SLI incident is open); unhealthy "
                        "(Envoy ejected it or its health check fails); drained; disabled")
    open_incidents: list[IncidentPublic]
    slis: list[SliReading]
