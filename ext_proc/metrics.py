"""Prometheus metrics of the request path, derived from the usage record in ONE place.

Names follow the OpenTelemetry GenAI semantic conventions (`gen_ai.client.token.usage` ->
`gen_ai_client_token_usage`, ...); gateway-only metrics are prefixed `omg_`. Labels: provider,
deployment, model, status class; `tenant` only when OMG_METRICS_TENANT_LABEL is on (one
series per tenant multiplies cardinality). Several ext_proc processes share one exposition
through prometheus-client's multiprocess mode (see `ext_proc/metrics_server.py`).

`observe` runs once per request on the hot path, so it only adds numbers up per label tuple;
`flush` (every second, and at shutdown) hands them to prometheus-client in one go.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from protos import usage_pb2

TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                    40.96, 81.92)
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
                7.5, 10.0)
TPOT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75,
                1.0, 2.5)
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                    0.1, 0.25)
# (token type label, UsageRecord field)
TOKEN_TYPES = (("input", "prompt_tokens"), ("output", "completion_tokens"),
               ("cached_input", "cached_tokens"), ("reasoning", "reasoning_tokens"))
RATE_LIMIT_CODES = frozenset({"rate_limit_exceeded", "rate_limiter_unavailable"})
MODEL_LABELS = ("provider", "deployment", "model")
PICO_PER_USD = 10**12


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "unknown"


class GatewayMetrics:
    """Every metric ext_proc exports, registered on `registry` (one per process)."""

    def __init__(self, registry: CollectorRegistry, *, tenant_label: bool = False) -> None:
        self.tenant_label = tenant_label
        extra = ("tenant",) if tenant_label else ()
        base = (*MODEL_LABELS, *extra)
        self.token_usage = Histogram(
            "gen_ai_client_token_usage", "Tokens used per request, by token type.",
            (*base, "token_type"), buckets=TOKEN_BUCKETS, registry=registry)
        self.request_duration = Histogram(
            "gen_ai_server_request_duration", "Request duration in seconds, client's view "
            "(gateway overhead plus upstream time).", (*base, "status_class"),
            buckets=DURATION_BUCKETS, registry=registry)
        self.time_to_first_token = Histogram(
            "gen_ai_server_time_to_first_token", "Seconds until the first streamed chunk.",
            base, buckets=TTFT_BUCKETS, registry=registry)
        self.time_per_output_token = Histogram(
            "gen_ai_server_time_per_output_token", "Seconds per output token after the first "
            "(streams).", base, buckets=TPOT_BUCKETS, registry=registry)
        self.requests = Counter(
            "omg_requests", "Requests by outcome; error_type is the OpenAI error code.",
            (*base, "status_class", "error_type"), registry=registry)
        self.overhead = Histogram(
            "omg_gateway_overhead_seconds", "Time spent inside ext_proc callbacks per request "
            "(not upstream time).", base, buckets=OVERHEAD_BUCKETS, registry=registry)
        self.cost = Counter(
            "omg_cost_usd", "Spend in US dollars, from the usage record's cost.", base,
            registry=registry)
        self.rate_limited = Counter(
            "omg_rate_limit_rejections", "Requests refused with 429 by the gateway's limits.",
            ("model", "reason", *extra), registry=registry)
        self.guardrail_actions = Counter(
            "omg_guardrail_actions", "Guardrail decisions (e.g. block, redact, flag).",
            ("guardrail", "stage", "action"), registry=registry)
        self.retries = Counter(
            "omg_upstream_retries", "Upstream attempts beyond the first.", MODEL_LABELS,
            registry=registry)
        self.fallbacks = Counter(
            "omg_fallbacks", "Requests served by a fallback deployment.", MODEL_LABELS,
            registry=registry)
        self.usage_backlog = Gauge(
            "omg_usage_backlog_records", "Usage records not yet acknowledged by the control "
            "plane (pending in memory plus spooled on disk).", multiprocess_mode="livesum",
            registry=registry)
        self._series: dict[tuple[str, ...], _Series] = {}

    def observe(self, record: usage_pb2.UsageRecord, overhead_seconds: float) -> None:
        """Everything a finished request tells, from its usage record (visible after flush)."""
        key = (record.provider, record.deployment_id, record.model, status_class(record.status),
               record.error_type)
        if self.tenant_label:
            key = (*key, record.tenant_id)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(self, key)
        series.add(record, overhead_seconds)

    def flush(self) -> None:
        """Hand what `observe` added up to prometheus-client (ext_proc: every second)."""
        for series in list(self._series.values()):
            series.flush()


class PendingHistogram:
    """Observations of one histogram child, added up in plain Python until `flush`.

    prometheus-client's `observe` scans the buckets and takes a lock per value (and writes an
    mmap'd file in multiprocess mode); adding up here costs a bisect and two additions, and a
    flush writes each touched bucket once however many requests it saw. The flush uses the
    child's bucket values directly: prometheus-client has no public "observe n times";
    tests/unit/test_metrics.py proves the result equals plain `observe` calls.
    """

    __slots__ = ("bounds", "child", "counts", "total")

    def __init__(self, child: Any) -> None:
        self.child = child
        self.bounds = tuple(child._upper_bounds)
        self.counts = [0] * len(self.bounds)
        self.total = 0.0

    def add(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def flush(self) -> None:
        counts = self.counts
        buckets = self.child._buckets
        for index, count in enumerate(counts):
            if count:
                buckets[index].inc(count)
                counts[index] = 0
        self.child._sum.inc(self.total)
        self.total = 0.0


class _Series:
    """The pending samples of one (provider, deployment, model, status, error[, tenant])."""

    __slots__ = ("cost_child", "cost_pico", "duration", "fallbacks", "fallbacks_child",
                 "overhead", "rate_limited", "requests", "requests_child", "retries",
                 "retries_child", "tokens", "tpot", "ttft")

    def __init__(self, metrics: GatewayMetrics, key: tuple[str, ...]) -> None:
        provider, deployment, model, status, error = key[:5]
        base = (provider, deployment, model, *key[5:])
        self.requests = 0
        self.requests_child = metrics.requests.labels(*base, status, error)
        self.duration = PendingHistogram(metrics.request_duration.labels(*base, status))
        self.overhead = PendingHistogram(metrics.overhead.labels(*base))
        self.ttft = PendingHistogram(metrics.time_to_first_token.labels(*base))
        self.tpot = PendingHistogram(metrics.time_per_output_token.labels(*base))
        self.tokens = tuple(
            (field, PendingHistogram(metrics.token_usage.labels(*base, kind)))
            for kind, field in TOKEN_TYPES
        )
        self.cost_pico = 0
        self.cost_child = metrics.cost.labels(*base)
        self.retries = self.fallbacks = 0
        self.retries_child = metrics.retries.labels(provider, deployment, model)
        self.fallbacks_child = metrics.fallbacks.labels(provider, deployment, model)
        self.rate_limited: Any = None
        if error in RATE_LIMIT_CODES:
            self.rate_limited = metrics.rate_limited.labels(model, error, *key[5:])

    def add(self, record: usage_pb2.UsageRecord, overhead_seconds: float) -> None:
        self.requests += 1
        self.cost_pico += record.cost_pico
        if record.attempts > 1:  # fail-over: retried, and (when it succeeded) a fallback served
            self.retries += record.attempts - 1
            self.fallbacks += record.status < 400
        self.duration.add(record.latency_ms / 1000.0)
        self.overhead.add(overhead_seconds)
        if record.total_tokens:
            for field, pending in self.tokens:
                value = getattr(record, field)
                if value:
                    pending.add(value)
        if record.ttft_ms:
            self.ttft.add(record.ttft_ms / 1000.0)
            if record.completion_tokens > 1:
                per_token = (record.latency_ms - record.ttft_ms) / (record.completion_tokens - 1)
                self.tpot.add(per_token / 1000.0)

    def flush(self) -> None:
        if not self.requests:
            return
        self.requests_child.inc(self.requests)
        if self.cost_pico:
            self.cost_child.inc(self.cost_pico / PICO_PER_USD)
            self.cost_pico = 0
        if self.retries:
            self.retries_child.inc(self.retries)
            self.fallbacks_child.inc(self.fallbacks)
            self.retries = self.fallbacks = 0
        if self.rate_limited is not None:
            self.rate_limited.inc(self.requests)
        self.requests = 0
        for pending in (self.duration, self.overhead, self.ttft, self.tpot):
            pending.flush()
        for _, pending in self.tokens:
            pending.flush()
