"""SLIs through the real stack: injected faults on the mock provider open incidents, recovery
resolves them, a draining SLI moves traffic away, and the history is queryable (API and CLI).

Faults are injected per request with the mock's `x-mock-*` headers, which pass through Envoy to
the upstream: a 5xx storm, a 429 storm and a latency spike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port
from tests.integration.alert_receivers import MailSink, WebhookReceiver, signature_ok
from tests.integration.conftest import Gateway, running_gateway, wait_for
from tests.integration.databases import database_url
from tests.integration.test_failover import deploy
from tests.integration.upstreams import mock

pytestmark = pytest.mark.timeout(240)

EVAL_SECONDS = 0.3
MODEL = "mock-gpt"
DEPLOYMENT = "mock-gpt-local"


class Receivers:
    """The platform's alert channels: a real webhook server and a real SMTP server."""

    def __init__(self) -> None:
        self.hook = WebhookReceiver()
        self.mail = MailSink()
        self.smtp = Controller(self.mail, hostname="127.0.0.1", port=free_port())
        self.secret = ""

    def subscribe(self, gw: Gateway) -> None:
        with gw.admin() as admin:
            hook = admin.post("/api/v1/alert-channels", json={
                "name": "sre-hook", "kind": "webhook", "target": self.hook.url})
            mail = admin.post("/api/v1/alert-channels", json={
                "name": "sre-mail", "kind": "email", "target": "sre@gateway.test"})
        assert hook.status_code == mail.status_code == 201, (hook.text, mail.text)
        self.secret = hook.json()["secret"]

    def events(self, incident_id: str) -> list[str]:
        return [json.loads(body)["kind"] for _, body in self.hook.where("id", incident_id)]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def sli_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Gateway, Receivers]]:
    backend = request.param
    home = tmp_path_factory.mktemp(f"omg-sli-{backend}")
    url = database_url(request, backend, home, "omg_sli")
    receivers = Receivers()
    receivers.hook.start()
    receivers.smtp.start()
    try:
        async with running_gateway(
            home, backend, url, sli_eval_seconds=EVAL_SECONDS, alert_backoff_seconds=0.1,
            smtp_host="127.0.0.1", smtp_port=receivers.smtp.port, smtp_from="omg@gateway.test",
        ) as gw:
            receivers.subscribe(gw)
            yield gw, receivers
    finally:
        receivers.smtp.stop()
        receivers.hook.stop()


@pytest.fixture
def gw(sli_gateway: tuple[Gateway, Receivers]) -> Gateway:
    return sli_gateway[0]


@pytest.fixture
def alerts(sli_gateway: tuple[Gateway, Receivers]) -> Receivers:
    return sli_gateway[1]


def traffic(gw: Gateway, n: int, **mock: str) -> list[int]:
    """n chat completions; `mock` knobs become x-mock-* headers. Returns the statuses."""
    headers = {f"x-mock-{k.replace('_', '-')}": v for k, v in mock.items()}
    client = gw.client()
    statuses = []
    for _ in range(n):
        try:
            client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "hi"}], extra_headers=headers)
            statuses.append(200)
        except openai.APIStatusError as exc:
            statuses.append(exc.status_code)
    return statuses


def create_sli(gw: Gateway, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"deployment": DEPLOYMENT, "window_s": 2, "min_requests": 5,
                            "breach_windows": 2, "recover_windows": 2, **fields}
    with gw.admin() as admin:
        response = admin.post("/api/v1/slis", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def delete_sli(gw: Gateway, sli_id: str) -> None:
    with gw.admin() as admin:
        assert admin.delete(f"/api/v1/slis/{sli_id}").status_code == 204


def incidents(gw: Gateway, sli_id: str) -> list[dict[str, Any]]:
    with gw.admin() as admin:
        response = admin.get("/api/v1/incidents", params={"deployment": DEPLOYMENT})
    response.raise_for_status()
    return [i for i in response.json()["data"] if i["objective_id"] == sli_id]


def health(gw: Gateway) -> dict[str, Any]:
    with gw.admin() as admin:
        response = admin.get("/api/v1/health/deployments")
    response.raise_for_status()
    return next(d for d in response.json() if d["name"] == DEPLOYMENT)


def storm_opens_then_recovery_resolves(
    gw: Gateway, sli: dict[str, Any], fault: dict[str, str], faulty_status: int
) -> dict[str, Any]:
    statuses = traffic(gw, 12, **fault)
    assert statuses.count(faulty_status) == 12
    opened = wait_for(lambda: [i for i in incidents(gw, sli["id"]) if i["status"] == "open"],
                      timeout=15)
    assert len(opened) == 1
    incident = opened[0]
    assert incident["kind"] == sli["kind"]
    assert incident["value"] > sli["threshold"]
    assert incident["deployment_name"] == DEPLOYMENT
    assert health(gw)["status"] in ("degraded", "drained")
    # Recovery: healthy traffic until the window holds only good requests.
    def resolved() -> list[dict[str, Any]]:
        traffic(gw, 6)
        return [i for i in incidents(gw, sli["id"]) if i["status"] == "resolved"]

    done = wait_for(resolved, timeout=30, every=0.2)
    assert len(done) == 1 and done[0]["id"] == incident["id"]
    assert done[0]["resolved_at"] is not None
    assert len(incidents(gw, sli["id"])) == 1  # damped: one incident, not one per window
    return dict(done[0])


def test_5xx_storm_opens_an_error_rate_incident_and_recovery_resolves_it(
    gw: Gateway, alerts: Receivers,
) -> None:
    sli = create_sli(gw, kind="error_rate", threshold=0.5)
    try:
        incident = storm_opens_then_recovery_resolves(gw, sli, {"error_status": "500"}, 500)
        assert incident["peak"] == pytest.approx(1.0)
        assert health(gw)["status"] == "healthy"
        # Both transitions reach the platform's channels, signed, once each.
        wait_for(lambda: len(alerts.events(incident["id"])) == 2, timeout=10)
        assert alerts.events(incident["id"]) == ["incident.opened", "incident.resolved"]
        for headers, body in alerts.hook.where("id", incident["id"]):
            assert signature_ok(headers, body, alerts.secret)
            assert json.loads(body)["data"]["deployment_name"] == DEPLOYMENT
        mails = wait_for(lambda: len(alerts.mail.about(incident["id"])) == 2
                         and alerts.mail.about(incident["id"]), timeout=10)
        assert all(m.rcpt_tos == ["sre@gateway.test"] for m in mails)
        assert b"incident opened on mock-gpt-local: error_rate" in mails[0].content
        time.sleep(1.0)  # several evaluations later: still once each
        assert alerts.events(incident["id"]) == ["incident.opened", "incident.resolved"]
        assert len(alerts.mail.about(incident["id"])) == 2
    finally:
        delete_sli(gw, sli["id"])


def test_429_storm_opens_a_rate_limited_incident(gw: Gateway) -> None:
    sli_gateway = gw
    sli = create_sli(sli_gateway, kind="rate_limited_rate", threshold=0.2)
    try:
        storm_opens_then_recovery_resolves(sli_gateway, sli, {"error_status": "429"}, 429)
    finally:
        delete_sli(sli_gateway, sli["id"])


def test_latency_spike_opens_a_latency_incident_and_drains_while_open(gw: Gateway) -> None:
    sli_gateway = gw
    sli = create_sli(sli_gateway, kind="latency_p95_ms", threshold=150, drain=True)
    try:
        statuses = traffic(sli_gateway, 8, latency_ms="250")
        assert statuses == [200] * 8
        wait_for(lambda: health(sli_gateway)["drained"], timeout=15)
        assert health(sli_gateway)["status"] == "drained"
        def resolved() -> bool:
            traffic(sli_gateway, 6)
            return not health(sli_gateway)["drained"]

        wait_for(resolved, timeout=30, every=0.2)
        history = incidents(sli_gateway, sli["id"])
        assert [i["status"] for i in history] == ["resolved"]
        assert history[0]["drained"] is True
        assert history[0]["value"] >= 250
    finally:
        delete_sli(sli_gateway, sli["id"])


def test_a_quiet_window_judges_nothing(gw: Gateway) -> None:
    sli_gateway = gw
    sli = create_sli(sli_gateway, kind="error_rate", threshold=0.5, min_requests=50)
    try:
        traffic(sli_gateway, 10, error_status="500")
        def evaluated() -> dict[str, Any]:
            with sli_gateway.admin() as admin:
                rows = admin.get("/api/v1/slis", params={"deployment": DEPLOYMENT}).json()
            return next(r for r in rows["data"] if r["id"] == sli["id"])

        wait_for(lambda: evaluated()["last_evaluated_at"], timeout=10)
        assert evaluated()["last_value"] is None
        assert incidents(sli_gateway, sli["id"]) == []
    finally:
        delete_sli(sli_gateway, sli["id"])


def omg(gw: Gateway, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMG_HOME": str(gw.settings.resolved_home),
           "OMG_ADMIN_URL": gw.settings.admin_url, "OMG_ADMIN_TOKEN": gw.admin_token}
    return subprocess.run([sys.executable, "-m", "cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_shows_health_slis_and_incident_history(gw: Gateway) -> None:
    sli_gateway = gw
    sli = create_sli(sli_gateway, kind="error_rate", threshold=0.5)
    try:
        storm_opens_then_recovery_resolves(sli_gateway, sli, {"error_status": "503"}, 503)
        shown = omg(sli_gateway, "health")
        assert shown.returncode == 0, shown.stderr
        assert DEPLOYMENT in shown.stdout and "healthy" in shown.stdout
        assert "error_rate=" in shown.stdout
        listed = omg(sli_gateway, "incidents", "list", "--deployment", DEPLOYMENT, "-o", "json")
        assert listed.returncode == 0, listed.stderr
        assert sli["id"] in listed.stdout and "resolved" in listed.stdout
        slis = omg(sli_gateway, "slis", "list")
        assert slis.returncode == 0 and sli["id"] in slis.stdout
    finally:
        delete_sli(sli_gateway, sli["id"])


def test_failures_hidden_by_fail_over_still_open_an_incident_on_their_deployment(
    gw: Gateway,
) -> None:
    """Every client request succeeds on the fallback; the primary's 500s still count."""
    with mock(error_status="500") as failing:
        primary_id, fallback_id = deploy(gw, "sli-fo", [
            # Outlier detection would eject the primary after 5 straight 500s and take it out
            # of traffic (and of its SLI's window); here it stays in.
            {"base_url": f"{failing}/v1", "priority": 0,
             "options": {"outlier_consecutive_5xx": "1000"}},
            {"base_url": f"http://127.0.0.1:{gw.settings.mock_port}/v1", "priority": 1}])
        sli = create_sli(gw, deployment=primary_id, kind="error_rate", threshold=0.5)
        try:
            client = gw.client()
            for _ in range(10):
                raw = client.chat.completions.with_raw_response.create(
                    model="sli-fo", messages=[{"role": "user", "content": "hi"}])
                assert raw.http_response.status_code == 200
            [record] = wait_for(lambda: gw.usage(raw.headers["x-request-id"]))
            assert (record["deployment_id"], record["attempts"]) == (fallback_id, 2)
            opened = wait_for(lambda: incidents_of(gw, primary_id), timeout=15)
            assert opened[0]["kind"] == "error_rate" and opened[0]["value"] == 1.0
            assert incidents_of(gw, fallback_id) == []
        finally:
            delete_sli(gw, sli["id"])


def incidents_of(gw: Gateway, deployment_id: str) -> list[dict[str, Any]]:
    with gw.admin() as admin:
        response = admin.get("/api/v1/incidents", params={"deployment": deployment_id})
    response.raise_for_status()
    return list(response.json()["data"])
