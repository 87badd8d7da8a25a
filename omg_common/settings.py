"""Process settings, read from `OMG_*` environment variables (and nothing else)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """One value object for every knob; each process builds it once in `main()`."""

    model_config = SettingsConfigDict(env_prefix="OMG_", frozen=True)

    home: Path = Field(default=Path(".omg"), description="state folder (SQLite, keys, spool)")
    database_url: str = ""
    host: str = "127.0.0.1"
    listen_port: int = 8080
    admin_port: int = 8081
    envoy_admin_port: int = 9901
    xds_port: int = 18000
    ext_proc_port: int = 50051
    ext_proc_workers: int = Field(default=1, ge=1, le=64, description="ext_proc processes")
    ext_proc_uvloop: bool = Field(default=True, description="serve ext_proc on uvloop")
    mock_port: int = 8090
    mock_host: str = Field(default="127.0.0.1", description="where the seeded demo deployment "
                           "finds the mock provider")
    control_plane_host: str = "127.0.0.1"
    secret_key: str = ""
    max_body_bytes: int = 8 * 1024 * 1024
    log_level: str = "info"
    node_id: str = "omg-envoy-1"
    config_poll_seconds: float = 1.0
    envoy_concurrency: int = 1
    redis_url: str = Field(default="", description="shared rate-limit counters; empty: memory")
    redis_timeout_seconds: float = Field(default=0.25, gt=0, description="per Redis call")
    rate_limit_failure_mode: Literal["open", "closed"] = Field(
        default="open", description="when Redis cannot answer: serve unlimited, or refuse (429)"
    )
    budget_failure_mode: Literal["open", "closed"] = Field(
        default="closed",
        description="when Redis cannot answer: serve without checking budgets, or refuse (503)",
    )
    alert_interval_seconds: float = Field(default=5.0, gt=0,
                                          description="how often spend is checked for alerts")
    alert_retries: int = Field(default=4, ge=1, description="delivery attempts per channel")
    alert_backoff_seconds: float = Field(default=1.0, ge=0, description="first retry delay")
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "omg@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False

    envoy_admin_urls: str = Field(
        default="", description="Envoy admin base URLs, comma-separated, for live deployment "
        "health (`omg health`); empty: this host's Envoy at OMG_ENVOY_ADMIN_PORT")
    sli_eval_seconds: float = Field(
        default=15.0, gt=0, description="how often the SLI evaluator measures every objective"
    )
    bind_host: str = Field(default="127.0.0.1", description="where ext_proc and the control "
                           "plane listen (0.0.0.0 in containers)")
    ext_proc_metrics_port: int = Field(default=9464, ge=0, description="Prometheus endpoint "
                                       "of ext_proc (all workers of a host); 0: off")
    metrics_tenant_label: bool = Field(default=False, description="add a tenant label to "
                                       "request metrics (one series per tenant)")
    ext_proc_targets: str = Field(default="", description="host:port of ext_proc for Envoy, "
                                  "comma-separated (containers); empty: 127.0.0.1 ports")
    otlp_endpoint: str = Field(default="", description="OTLP/HTTP base URL for traces and "
                               "metrics, e.g. http://otel-collector:4318; empty: off")

    @cached_property
    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.resolved_home / 'omg.db'}"

    @property
    def control_plane_grpc_target(self) -> str:
        return f"{self.control_plane_host}:{self.xds_port}"

    @property
    def envoy_admin_targets(self) -> str:
        return self.envoy_admin_urls or f"http://127.0.0.1:{self.envoy_admin_port}"

    @property
    def admin_url(self) -> str:
        return f"http://{self.control_plane_host}:{self.admin_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.listen_port}/v1"

    @property
    def grpc_max_message_bytes(self) -> int:
        # Envoy sends the whole buffered body in one message; leave headroom for headers.
        return self.max_body_bytes + 1024 * 1024


def load_settings() -> Settings:
    return Settings()
