"""What ext_proc reports about its requests: Prometheus metrics always, OTLP when asked."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry

from ext_proc.metrics import GatewayMetrics
from ext_proc.metrics_server import serve_metrics, stop_metrics
from ext_proc.servicer import RequestObserver
from ext_proc.upstream import AttemptTracer
from omg_common.settings import Settings
from protos import usage_pb2

FLUSH_SECONDS = 1.0


class Telemetry:
    def __init__(self, settings: Settings) -> None:
        self.registry = CollectorRegistry()
        self.metrics = GatewayMetrics(self.registry, tenant_label=settings.metrics_tenant_label)
        self.otlp: Any = None
        if settings.otlp_endpoint:
            from ext_proc.otlp import OtlpTelemetry  # only paid for when OTLP is on

            self.otlp = OtlpTelemetry(settings.otlp_endpoint)
        self._server: Any = None
        self._settings = settings

    def start(self) -> None:
        self._server = serve_metrics(self.registry, self._settings.bind_host,
                                     self._settings.ext_proc_metrics_port)

    @property
    def observe(self) -> RequestObserver:
        if self.otlp is None:
            return self.metrics.observe
        metrics, otlp = self.metrics, self.otlp

        def both(record: usage_pb2.UsageRecord, overhead: float) -> None:
            metrics.observe(record, overhead)
            otlp.observe(record, overhead)

        return both

    @property
    def attempt_tracer(self) -> AttemptTracer | None:
        return None if self.otlp is None else self.otlp.attempt

    async def flush_forever(self, backlog: Callable[[], int]) -> None:
        """Every second: request metrics to prometheus-client, and the usage backlog."""
        gauge = self.metrics.usage_backlog
        while True:
            gauge.set(backlog())
            self.metrics.flush()
            await asyncio.sleep(FLUSH_SECONDS)

    def close(self) -> None:
        self.metrics.flush()
        stop_metrics(self._server, os.getpid())
        if self.otlp is not None:
            self.otlp.shutdown()
