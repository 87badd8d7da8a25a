"""Per-request state carried across the messages of one ext_proc stream."""

from __future__ import annotations

import time

from ext_proc.budget_guard import BudgetReservation
from ext_proc.limiter import Reservation
from ext_proc.messages import ResponseFacts
from ext_proc.pipeline import RouteDecision
from ext_proc.pricing import cost_pico, price_at
from ext_proc.snapshot import Deployment, Principal
from ext_proc.usage import JsonUsageTap, SseUsageTap, Usage
from protos import usage_pb2


class RequestContext:
    __slots__ = (
        "attempts",
        "budget_reservation",
        "callback_started",
        "cost_pico",
        "decision",
        "endpoint",
        "error_type",
        "finished",
        "first_byte_at",
        "json_tap",
        "overhead",
        "principal",
        "refused_by_budget",
        "request_id",
        "reservation",
        "response_started",
        "served_deployment_id",
        "started_at",
        "started_wall_ms",
        "status",
        "tap",
        "usage",
    )

    def __init__(self) -> None:
        self.started_at = time.perf_counter()
        self.callback_started = self.started_at
        self.overhead = 0.0  # seconds spent inside ext_proc callbacks so far
        self.started_wall_ms = time.time_ns() // 1_000_000
        self.request_id = ""
        self.endpoint = ""
        self.principal: Principal | None = None
        self.decision: RouteDecision | None = None
        self.reservation: Reservation | None = None
        self.budget_reservation: BudgetReservation | None = None
        self.cost_pico = 0
        self.refused_by_budget = ""
        self.status = 0
        self.response_started = False  # the first response body message arrived
        self.error_type = ""
        self.tap: SseUsageTap | None = None
        self.json_tap: JsonUsageTap | None = None
        self.usage: Usage | None = None
        self.first_byte_at = 0.0
        self.finished = False
        # The deployment that answered (after any fail-over) and how many upstream attempts
        # Envoy made; until the response says otherwise, the deployment picked for it.
        self.served_deployment_id = ""
        self.attempts = 0

    def note_response(self, facts: ResponseFacts) -> None:
        """Read from the first response message: status, attempts, who served."""
        self.response_started = True
        self.status = facts.status
        self.attempts = facts.attempts or 1
        if facts.served_deployment_id:
            self.served_deployment_id = facts.served_deployment_id

    def served_deployment(self) -> Deployment | None:
        decision = self.decision
        if decision is None:
            return None
        return decision.candidate(self.served_deployment_id) or decision.deployment

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

    def anonymous_record(self, now: float) -> usage_pb2.UsageRecord:
        """A request refused before its key resolved (metrics only, never shipped)."""
        return usage_pb2.UsageRecord(
            request_id=self.request_id, created_at_ms=self.started_wall_ms, status=self.status,
            latency_ms=(now - self.started_at) * 1000.0, endpoint=self.endpoint,
            error_type=self.error_type)

    def price_usage(self) -> int:
        """The request's cost in pico-USD: the serving deployment's price in force when the
        request started."""
        served = self.served_deployment()
        if self.usage is None or served is None:
            return 0
        self.cost_pico = cost_pico(price_at(served.prices, self.started_wall_ms), self.usage)
        return self.cost_pico

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
            cost_pico=self.cost_pico,
            refused_by_budget=self.refused_by_budget,
        )
        served = self.served_deployment()
        if decision is not None and served is not None:
            record.model = decision.model
            record.deployment_id = served.id
            record.provider = served.provider
            record.attempts = self.attempts
            record.stream = decision.stream
            if decision.stream and self.first_byte_at:
                record.ttft_ms = (self.first_byte_at - self.started_at) * 1000.0
        return record
