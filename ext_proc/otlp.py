"""Optional OTLP/HTTP export of traces and metrics, on only when OMG_OTLP_ENDPOINT is set.

One span per request (router level, built from the usage record when the request ends) and
one per upstream attempt (upstream level, which runs once per attempt). The two levels are
separate gRPC streams, possibly in different processes, so they meet through the request id
Envoy puts on both: the trace id and the request span's id are derived from it, and each
attempt span names the request span as its parent. ext_proc only imports this module when
the endpoint is set, so a gateway without OTLP pays nothing.
"""

from __future__ import annotations

import hashlib
import time

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    set_span_in_context,
)
from opentelemetry.util.types import AttributeValue

from ext_proc.upstream import AttemptState
from protos import usage_pb2

OPERATIONS = {"chat.completions": "chat", "completions": "text_completion",
              "embeddings": "embeddings"}
EXPORT_SECONDS = 1.0


def request_ids(request_id: str) -> tuple[int, int]:
    """(trace id, request span id) of a request, the same in every ext_proc process."""
    digest = hashlib.sha256(request_id.encode()).digest()
    return int.from_bytes(digest[:16], "big") or 1, int.from_bytes(digest[16:24], "big") or 1


class RequestIdGenerator(IdGenerator):
    """Random ids, except for the next span when `pin` named its ids (synchronous use only)."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()
        self._pinned: tuple[int, int] | None = None

    def pin(self, trace_id: int, span_id: int) -> None:
        self._pinned = (trace_id, span_id)

    def generate_trace_id(self) -> int:
        return self._pinned[0] if self._pinned else self._random.generate_trace_id()

    def generate_span_id(self) -> int:
        if self._pinned is None:
            return self._random.generate_span_id()
        span_id, self._pinned = self._pinned[1], None
        return span_id


def request_attributes(record: usage_pb2.UsageRecord) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {
        "gen_ai.operation.name": OPERATIONS.get(record.endpoint, record.endpoint),
        "gen_ai.provider.name": record.provider,
        "gen_ai.request.model": record.model,
        "gen_ai.usage.input_tokens": record.prompt_tokens,
        "gen_ai.usage.output_tokens": record.completion_tokens,
        "http.response.status_code": record.status,
        "omg.request.id": record.request_id,
        "omg.tenant.id": record.tenant_id,
        "omg.deployment.id": record.deployment_id,
        "omg.stream": record.stream,
    }
    if record.cached_tokens:
        attributes["gen_ai.usage.cached_input_tokens"] = record.cached_tokens
    if record.reasoning_tokens:
        attributes["gen_ai.usage.reasoning_tokens"] = record.reasoning_tokens
    if record.ttft_ms:
        attributes["gen_ai.server.time_to_first_token"] = record.ttft_ms / 1000.0
    if record.error_type:
        attributes["error.type"] = record.error_type
    return attributes


def attempt_attributes(state: AttemptState) -> dict[str, AttributeValue]:
    deployment = state.deployment
    attributes: dict[str, AttributeValue] = {
        "gen_ai.operation.name": OPERATIONS.get(state.endpoint, state.endpoint),
        "gen_ai.request.model": state.model,
        "http.response.status_code": state.upstream_status,
        "omg.request.id": state.request_id,
    }
    if deployment is not None:
        attributes.update({"gen_ai.provider.name": deployment.provider,
                           "omg.deployment.id": deployment.id, "server.address": deployment.host})
    return attributes


class OtlpTelemetry:
    def __init__(self, endpoint: str, service_name: str = "omg-ext-proc") -> None:
        base = endpoint.rstrip("/")
        resource = Resource.create({"service.name": service_name})
        self._ids = RequestIdGenerator()
        self._traces = TracerProvider(resource=resource, id_generator=self._ids)
        self._traces.add_span_processor(BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{base}/v1/traces"),
            schedule_delay_millis=int(EXPORT_SECONDS * 1000)))
        self._tracer = self._traces.get_tracer("omg.ext_proc")
        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=f"{base}/v1/metrics"),
            export_interval_millis=int(EXPORT_SECONDS * 1000))
        self._meters = MeterProvider(resource=resource, metric_readers=[reader])
        meter = self._meters.get_meter("omg.ext_proc")
        self._tokens = meter.create_histogram("gen_ai.client.token.usage", "{token}")
        self._duration = meter.create_histogram("gen_ai.server.request.duration", "s")
        self._ttft = meter.create_histogram("gen_ai.server.time_to_first_token", "s")
        self._overhead = meter.create_histogram("omg.gateway.overhead", "s")

    def observe(self, record: usage_pb2.UsageRecord, overhead_seconds: float) -> None:
        self._request_span(record)
        labels = {"gen_ai.provider.name": record.provider, "gen_ai.request.model": record.model,
                  "omg.deployment.id": record.deployment_id}
        self._duration.record(record.latency_ms / 1000.0,
                              {**labels, "http.response.status_code": record.status})
        self._overhead.record(overhead_seconds, labels)
        if record.ttft_ms:
            self._ttft.record(record.ttft_ms / 1000.0, labels)
        for kind, value in (("input", record.prompt_tokens), ("output", record.completion_tokens)):
            if value:
                self._tokens.record(value, {**labels, "gen_ai.token.type": kind})

    def _request_span(self, record: usage_pb2.UsageRecord) -> None:
        start_ns = record.created_at_ms * 1_000_000
        self._ids.pin(*request_ids(record.request_id))
        attributes = request_attributes(record)
        span = self._tracer.start_span(
            f"{attributes['gen_ai.operation.name']} {record.model}".strip() or "request",
            kind=SpanKind.SERVER, start_time=start_ns, attributes=attributes)
        if record.status >= 500 or record.status == 0:
            span.set_status(Status(StatusCode.ERROR, record.error_type or None))
        span.end(start_ns + int(record.latency_ms * 1_000_000))

    def attempt(self, state: AttemptState) -> None:
        trace_id, parent_id = request_ids(state.request_id)
        parent = SpanContext(trace_id, parent_id, is_remote=True,
                             trace_flags=TraceFlags(TraceFlags.SAMPLED))
        provider = state.deployment.provider if state.deployment else "unknown"
        span = self._tracer.start_span(
            f"attempt {provider}", context=set_span_in_context(NonRecordingSpan(parent)),
            kind=SpanKind.CLIENT, start_time=state.started_ns,
            attributes=attempt_attributes(state))
        if state.upstream_status >= 500 or state.upstream_status == 0:
            span.set_status(Status(StatusCode.ERROR))
        span.end(time.time_ns())

    def shutdown(self) -> None:
        self._traces.shutdown()
        self._meters.shutdown()
