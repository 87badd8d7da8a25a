"""Per-request state carried across the messages of one ext_proc stream."""

from __future__ import annotations

import time

from ext_proc.limiter import Reservation
from ext_proc.pipeline import RouteDecision
from ext_proc.snapshot import Principal
from ext_proc.usage import JsonUsageTap, SseUsageTap, Usage
from protos import usage_pb2


class RequestContext:
    __slots__ = (
        "decision",
        "endpoint",
        "error_type",
        "finished",
        "first_byte_at",
        "json_tap",
        "principal",
        "request_id",
        "reservation",
        "response_started",
        "started_at",
        "started_wall_ms",
        "status",
        "tap",
        "usage",
    )

    def __init__(self) -> None:
        self.started_at = time.perf_counter()
        self.started_wall_ms = time.time_ns() // 1_000_000
        self.request_id = ""
        self.endpoint = ""
        self.principal: Principal | None = None
        self.decision: RouteDecision | None = None
        self.reservation: Reservation | None = None
        self.status = 0
        self.response_started = False  # the first response body message arrived
        self.error_type = ""
        self.tap: SseUsageTap | None = None
        self.json_tap: JsonUsageTap | None = None
        self.usage: Usage | None = None
        self.first_byte_at = 0.0
        self.finished = False

    @property
    def recordable(self) -> bool:
        """A request is billed to someone once its key resolved."""
        return self.principal is not None and not self.finished

    def actual_tokens(self) -> int | None:
        """Tokens the request really cost, for settling its reservation; None: unknown."""
        if self.usage is not None:
            return self.usage.total_tokens
        if self.status >= 400 and self.status != 499:
            return 0  # refused or failed upstream: nothing was generated
        return None  # e.g. the client left mid-stream: keep the estimate

    def to_record(self, now: float) -> usage_pb2.UsageRecord:
        principal = self.principal
        decision = self.decision
        usage = self.usage or Usage()
        assert principal is not None
        record = usage_pb2.UsageRecord(
            request_id=self.request_id,
            created_at_ms=self.started_wall_ms,
            tenant_id=principal.tenant_id,
            api_key_id=principal.key_id,
            status=self.status,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            cached_tokens=usage.cached_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            latency_ms=(now - self.started_at) * 1000.0,
            endpoint=self.endpoint,
            error_type=self.error_type,
        )
        if decision is not None:
            record.model = decision.model
            record.deployment_id = decision.deployment.id
            record.provider = decision.deployment.provider
            record.stream = decision.stream
            if decision.stream and self.first_byte_at:
                record.ttft_ms = (self.first_byte_at - self.started_at) * 1000.0
        return record
