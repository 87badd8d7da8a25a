"""Telemetry through the real stack: two ext_proc workers behind one metrics endpoint, the
control plane's /metrics, Envoy's own stats, OTLP spans at a real OTLP/HTTP receiver, and
the Grafana dashboards' queries resolved against what is really exported."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from cli.gateway import ext_proc_metrics_dir
from tests.conftest import free_port
from tests.integration.conftest import Gateway, running_gateway, wait_for
from tests.integration.otlp_receiver import OtlpReceiver, otlp_receiver
from tests.integration.promql import (
    dashboard_exprs,
    dashboard_metric_names,
    exported_labels,
    exported_names,
    parse_exposition,
    query_label_names,
    query_metric_names,
    sample_total,
)
from tests.integration.providers import provider_setup

pytestmark = pytest.mark.integration

DASHBOARDS = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"
USER = [{"role": "user", "content": "Hello telemetry"}]
PLAIN_REQUESTS = 6


@dataclass
class Observed:
    gateway: Gateway
    receiver: OtlpReceiver
    anthropic_request_id: str
    sent: int

    def scrape(self, url: str) -> str:
        response = httpx.get(url, timeout=5)
        response.raise_for_status()
        return response.text

    def ext_proc(self) -> str:
        return self.scrape(f"http://127.0.0.1:{self.gateway.settings.ext_proc_metrics_port}/metrics")

    def control_plane(self) -> str:
        return self.scrape(f"{self.gateway.settings.admin_url}/metrics")

    def envoy(self) -> str:
        return self.scrape(
            f"http://127.0.0.1:{self.gateway.settings.envoy_admin_port}/stats/prometheus")


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with otlp_receiver() as started:
        yield started


@pytest.fixture(scope="module")
def anthropic_fake() -> Iterator[str]:
    port = free_port()
    fake = subprocess.Popen([sys.executable, "-m", "fake_providers", "anthropic", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        fake.terminate()
        fake.wait(5)


@pytest.fixture(scope="module")
async def observed(
    tmp_path_factory: pytest.TempPathFactory, receiver: OtlpReceiver, anthropic_fake: str
) -> AsyncIterator[Observed]:
    home = tmp_path_factory.mktemp("omg-telemetry")
    async with running_gateway(home, "sqlite", "", ext_proc_workers=2,
                               otlp_endpoint=receiver.url) as gateway:
        yield send_traffic(gateway, receiver, anthropic_fake)


def deploy_anthropic(gateway: Gateway, fake_url: str) -> None:
    setup = provider_setup("anthropic", fake_url)
    with gateway.admin() as admin:
        assert admin.post("/api/v1/models", json={"name": "tele-claude"}).status_code == 201
        created = admin.post("/api/v1/deployments", json={
            "name": "tele-claude-fake", "model": "tele-claude", "provider": "anthropic",
            "base_url": fake_url, "upstream_model": "claude-test", "api_key": setup.credential,
            "options": setup.options})
        assert created.status_code == 201, created.text


def routable(client: openai.OpenAI, model: str) -> bool:
    try:
        client.chat.completions.create(model=model, messages=USER)  # type: ignore[arg-type]
    except openai.APIError:
        return False
    return True


def send_traffic(gateway: Gateway, receiver: OtlpReceiver, fake_url: str) -> Observed:
    client = gateway.client()
    for _ in range(PLAIN_REQUESTS):
        client.chat.completions.create(model="mock-gpt", messages=USER)  # type: ignore[arg-type]
    stream = client.chat.completions.create(model="mock-gpt", messages=USER,  # type: ignore[arg-type]
                                            stream=True)
    assert any(chunk.choices for chunk in stream)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=USER)  # type: ignore[arg-type]
    with pytest.raises(openai.AuthenticationError):
        gateway.client(api_key="omg-wrong").models.list()
    deploy_anthropic(gateway, fake_url)
    wait_for(lambda: routable(client, "tele-claude"), timeout=20, every=0.2)
    raw = client.chat.completions.with_raw_response.create(
        model="tele-claude", messages=USER)  # type: ignore[arg-type]
    request_id = raw.headers["x-request-id"]
    return Observed(gateway, receiver, request_id, sent=PLAIN_REQUESTS + 1 + 1)


def settled(text: str) -> str | None:
    """The scrape once the last request (to tele-claude) is in and the series agree."""
    requests = sample_total(text, "omg_requests_total")
    done = sample_total(text, "omg_requests_total", model="tele-claude", status_class="2xx")
    agree = sample_total(text, "omg_gateway_overhead_seconds_count") == requests
    return text if done >= 2 and agree else None


def test_ext_proc_workers_share_one_metrics_endpoint(observed: Observed) -> None:
    text = wait_for(lambda: settled(observed.ext_proc()))  # workers flush once a second

    def counter_files() -> list[str]:
        folder = ext_proc_metrics_dir(observed.gateway.settings)
        return [p.name for p in folder.iterdir() if p.name.startswith("counter_")]

    assert len(wait_for(lambda: len(counter_files()) == 2 and counter_files())) == 2  # both
    assert sample_total(text, "omg_requests_total", model="mock-gpt", provider="openai",
                        status_class="2xx") == PLAIN_REQUESTS + 1
    assert sample_total(text, "omg_requests_total", status_class="4xx",
                        error_type="invalid_api_key") == 1
    assert sample_total(text, "omg_requests_total", error_type="model_not_found") >= 1
    assert sample_total(text, "gen_ai_client_token_usage_sum", model="mock-gpt",
                        token_type="output") > 0
    assert sample_total(text, "gen_ai_server_time_to_first_token_count", model="mock-gpt") == 1
    requests = sample_total(text, "omg_requests_total")
    assert sample_total(text, "omg_gateway_overhead_seconds_count") == requests
    overhead = sample_total(text, "omg_gateway_overhead_seconds_sum")
    assert 0 < overhead < sample_total(text, "gen_ai_server_request_duration_sum")


def test_control_plane_counts_stored_usage_and_connected_envoys(observed: Observed) -> None:
    wait_for(lambda: sample_total(observed.control_plane(), "omg_usage_records_ingested_total",
                                  result="inserted") >= PLAIN_REQUESTS + 3)
    text = observed.control_plane()
    assert sample_total(text, "omg_xds_connected_envoys") == 1
    assert sample_total(text, "omg_xds_rejected_resources") == 0
    assert sample_total(text, "omg_config_version") >= 1


def test_envoy_reports_each_deployment_cluster(observed: Observed) -> None:
    text = observed.envoy()
    assert sample_total(text, "envoy_cluster_upstream_rq_total",
                        envoy_cluster_name="ext_proc") >= observed.sent
    clusters = {name for name in parse_exposition(text) if name.startswith("envoy_cluster_")}
    assert "envoy_cluster_upstream_rq_time_bucket" in clusters


def test_every_dashboard_query_uses_exported_metrics(observed: Observed) -> None:
    exported = exported_names(observed.ext_proc(), observed.control_plane(), observed.envoy())
    dashboards = sorted(DASHBOARDS.glob("*.json"))
    assert len(dashboards) >= 4
    for path in dashboards:
        used = dashboard_metric_names(path)
        assert used, f"{path.name} queries nothing"
        assert used <= exported, f"{path.name} uses metrics nobody exports: {used - exported}"


def test_dashboard_queries_use_labels_the_metrics_carry(observed: Observed) -> None:
    labels = exported_labels(observed.ext_proc(), observed.control_plane(), observed.envoy())
    for path in sorted(DASHBOARDS.glob("*.json")):
        for expr in dashboard_exprs(path):
            matched, grouped = query_label_names(expr)
            for metric, names in matched.items():
                if metric in labels:  # declared-only metrics have no series to compare with
                    assert names <= labels[metric], f"{path.name}: {metric} {names}"
            carried = set().union(*(labels.get(m, set()) for m in query_metric_names(expr)))
            if carried:
                assert grouped <= carried | {"le"}, f"{path.name}: by {grouped} in {expr}"


def attributes(span: Any) -> dict[str, Any]:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes}


def spans_of(receiver: OtlpReceiver, request_id: str) -> list[Any]:
    return [s for s in receiver.spans() if attributes(s).get("omg.request.id") == request_id]


def test_otlp_has_a_request_span_and_its_attempt_span(observed: Observed) -> None:
    found = wait_for(lambda: len(spans_of(observed.receiver, observed.anthropic_request_id)) == 2
                     and spans_of(observed.receiver, observed.anthropic_request_id), timeout=15)
    [request] = [s for s in found if s.name == "chat tele-claude"]
    [attempt] = [s for s in found if s.name == "attempt anthropic"]
    assert attempt.trace_id == request.trace_id
    assert attempt.parent_span_id == request.span_id
    assert request.start_time_unix_nano <= attempt.start_time_unix_nano
    assert attempt.end_time_unix_nano <= request.end_time_unix_nano + 50_000_000
    seen = attributes(request)
    assert seen["gen_ai.provider.name"] == "anthropic"
    assert seen["gen_ai.request.model"] == "tele-claude"
    assert seen["gen_ai.operation.name"] == "chat"
    assert seen["gen_ai.usage.output_tokens"] > 0
    assert seen["http.response.status_code"] == 200
    assert attributes(attempt)["http.response.status_code"] == 200


def test_otlp_metrics_use_genai_names(observed: Observed) -> None:
    wanted = {"gen_ai.client.token.usage", "gen_ai.server.request.duration"}
    assert wait_for(lambda: wanted <= observed.receiver.metric_names(), timeout=15)
