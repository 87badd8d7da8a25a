"""ext_proc's Prometheus metrics: what one usage record turns into, and the multiprocess sum."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from ext_proc.metrics import DURATION_BUCKETS, GatewayMetrics, PendingHistogram, status_class
from ext_proc.metrics_server import (
    exposition_registry,
    forget_dead_workers,
    reset_multiprocess_dir,
)
from ext_proc.servicer import ExternalProcessor
from protos import usage_pb2
from tests.unit.test_servicer_disconnect import Context, holder, messages

STREAM = usage_pb2.UsageRecord(
    request_id="r1", tenant_id="t1", provider="openai", deployment_id="d1", model="m",
    status=200, prompt_tokens=10, completion_tokens=11, total_tokens=21, cached_tokens=4,
    latency_ms=1200.0, ttft_ms=200.0, stream=True, endpoint="chat.completions")
LIMITED = usage_pb2.UsageRecord(request_id="r2", tenant_id="t1", model="m", status=429,
                                error_type="rate_limit_exceeded", latency_ms=1.0)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_status_classes() -> None:
    assert [status_class(s) for s in (200, 404, 499, 503, 0)] == \
        ["2xx", "4xx", "4xx", "5xx", "unknown"]


def test_one_stream_record_feeds_every_request_metric() -> None:
    registry = CollectorRegistry()
    metrics = GatewayMetrics(registry)
    metrics.observe(STREAM, 0.0007)
    assert sample(registry, "omg_requests_total", provider="openai", deployment="d1",
                  model="m", status_class="2xx", error_type="") == 0  # until flushed
    metrics.flush()
    model = {"provider": "openai", "deployment": "d1", "model": "m"}
    assert sample(registry, "omg_requests_total", **model, status_class="2xx",
                  error_type="") == 1
    for kind, tokens in (("input", 10), ("output", 11), ("cached_input", 4)):
        assert sample(registry, "gen_ai_client_token_usage_sum", **model,
                      token_type=kind) == tokens
    assert sample(registry, "gen_ai_client_token_usage_count", **model,
                  token_type="reasoning") == 0
    assert sample(registry, "gen_ai_server_request_duration_sum", **model,
                  status_class="2xx") == 1.2
    assert sample(registry, "gen_ai_server_time_to_first_token_sum", **model) == 0.2
    # 1.0 s after the first token for the 10 tokens after the first one.
    assert abs(sample(registry, "gen_ai_server_time_per_output_token_sum", **model) - 0.1) < 1e-9
    assert sample(registry, "omg_gateway_overhead_seconds_sum", **model) == 0.0007


def test_rate_limit_rejections_are_counted_by_reason() -> None:
    registry = CollectorRegistry()
    metrics = GatewayMetrics(registry)
    metrics.observe(LIMITED, 0.0001)
    metrics.observe(LIMITED, 0.0001)
    metrics.observe(STREAM, 0.0001)
    metrics.flush()
    assert sample(registry, "omg_rate_limit_rejections_total", model="m",
                  reason="rate_limit_exceeded") == 2


def test_tenant_label_only_when_asked() -> None:
    without, with_tenant = CollectorRegistry(), CollectorRegistry()
    for metrics in (GatewayMetrics(without), GatewayMetrics(with_tenant, tenant_label=True)):
        metrics.observe(STREAM, 0.0)
        metrics.flush()
    assert b'tenant="t1"' not in generate_latest(without)
    assert b'tenant="t1"' in generate_latest(with_tenant)


def test_added_up_observations_equal_plain_observe_calls() -> None:
    values = [0.0, 0.003, 0.01, 0.0100001, 0.5, 81.92, 100.0, 0.3, 0.3]
    plain, pending = CollectorRegistry(), CollectorRegistry()
    direct = Histogram("h", "h", buckets=DURATION_BUCKETS, registry=plain)
    for value in values:
        direct.observe(value)
    added = PendingHistogram(Histogram("h", "h", buckets=DURATION_BUCKETS, registry=pending))
    for index, value in enumerate(values):
        added.add(value)
        if index == 4:
            added.flush()  # flushing twice adds up too
    added.flush()
    [expected], [got] = plain.collect(), pending.collect()
    assert got.samples[:-1] == expected.samples[:-1]  # all but the _created stamp


async def test_the_servicer_reports_each_request_once_with_its_overhead() -> None:
    seen: list[tuple[usage_pb2.UsageRecord, float]] = []
    processor = ExternalProcessor(holder(), lambda r: None, random.Random(0),
                                  observe=lambda r, o: seen.append((r, o)))
    async for _ in processor.Process(messages(last_body_ends_stream=True), Context()):
        pass
    [(record, overhead)] = seen
    assert record.total_tokens == 12
    assert 0 < overhead <= record.latency_ms / 1000.0


WORKER = """
import sys
from prometheus_client import CollectorRegistry
from ext_proc.metrics import GatewayMetrics
from protos import usage_pb2
metrics = GatewayMetrics(CollectorRegistry())
metrics.observe(usage_pb2.UsageRecord(model="m", status=200, latency_ms=5.0), 0.001)
metrics.usage_backlog.set(int(sys.argv[1]))
metrics.flush()
"""


def test_workers_add_up_in_one_exposition(tmp_path: Path) -> None:
    shared = reset_multiprocess_dir(tmp_path / "metrics")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    for backlog in ("3", "4"):
        subprocess.run([sys.executable, "-c", WORKER, backlog], env=env, check=True,
                       cwd=Path(__file__).resolve().parents[2])
    own = CollectorRegistry()
    GatewayMetrics(own)  # what the serving worker declares
    text = generate_latest(exposition_registry(own, shared)).decode()
    assert 'omg_requests_total{deployment="",error_type="",model="m",provider="",' \
           'status_class="2xx"} 2.0' in text
    assert "omg_usage_backlog_records 7.0" in text
    # Declared although no worker observed it: dashboards resolve from the first scrape.
    assert "# TYPE omg_fallbacks_total counter" in text
    assert text.count("# TYPE omg_requests_total counter") == 1


def test_a_dead_workers_backlog_is_forgotten(tmp_path: Path) -> None:
    shared = reset_multiprocess_dir(tmp_path / "metrics")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    subprocess.run([sys.executable, "-c", WORKER, "5"], env=env, check=True,
                   cwd=Path(__file__).resolve().parents[2])  # exits without stop_metrics
    own = CollectorRegistry()
    GatewayMetrics(own)
    assert b"omg_usage_backlog_records 5.0" in generate_latest(exposition_registry(own, shared))
    forget_dead_workers(shared)
    text = generate_latest(exposition_registry(own, shared)).decode()
    assert "omg_usage_backlog_records 5.0" not in text
    assert "omg_requests_total{" in text  # counters of dead workers still count


def test_cost_retries_and_fallbacks_come_from_the_record() -> None:
    registry = CollectorRegistry()
    metrics = GatewayMetrics(registry)
    failed_over = usage_pb2.UsageRecord(
        request_id="r3", tenant_id="t1", provider="anthropic", deployment_id="d2", model="m",
        status=200, latency_ms=5.0, attempts=2, cost_pico=1_500_000_000_000)
    metrics.observe(failed_over, 0.0)
    metrics.observe(usage_pb2.UsageRecord(  # every attempt failed: retried, no fallback
        request_id="r4", provider="anthropic", deployment_id="d2", model="m", status=503,
        attempts=3), 0.0)
    metrics.flush()
    model = {"provider": "anthropic", "deployment": "d2", "model": "m"}
    assert sample(registry, "omg_cost_usd_total", **model) == 1.5
    assert sample(registry, "omg_upstream_retries_total", **model) == 3
    assert sample(registry, "omg_fallbacks_total", **model) == 1
    metrics.flush()  # nothing new: nothing added twice
    assert sample(registry, "omg_upstream_retries_total", **model) == 3


def test_budget_remaining_is_read_from_the_alert_jobs_last_look() -> None:
    from control_plane.metrics import ControlPlaneMetrics

    remaining = {"bud_1": ("key", "ten_1", 2_500_000_000_000)}
    metrics = ControlPlaneMetrics()
    metrics.watch_budgets(lambda: remaining)
    labels = {"budget": "bud_1", "scope": "key", "tenant": "ten_1"}
    assert metrics.registry.get_sample_value("omg_budget_remaining_usd", labels) == 2.5
    remaining["bud_1"] = ("key", "ten_1", -1_000_000_000_000)  # overshoot shows as negative
    assert metrics.registry.get_sample_value("omg_budget_remaining_usd", labels) == -1.0
