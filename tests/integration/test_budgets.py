"""Prices, cost and budgets through the real Envoy with the openai SDK, on a real Redis.

One stack for the module: control plane, Envoy, ext_proc with Redis counters, the mock
provider, a local webhook receiver and a local SMTP server (aiosmtpd). The last test stops
Redis (budgets fail closed, rate limits fail open).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import redis
import yaml
from aiosmtpd.controller import Controller
from typer.testing import CliRunner, Result

from cli.gateway import gateway_specs, prepare
from cli.main import app
from cli.stack import Stack
from omg_common.money import pico_to_usd
from omg_common.settings import Settings
from tests.conftest import free_port
from tests.integration.alert_receivers import MailSink, WebhookReceiver
from tests.integration.conftest import make_settings, wait_for, wait_until_known
from tests.integration.redis_server import RedisServer

pytestmark = pytest.mark.integration
MESSAGES: Any = [{"role": "user", "content": "what does this cost"}]
DEPLOYMENT = "mock-gpt-local"
PICO_PER_TOKEN_PER_USD_PER_M = 10**6  # $1 per million tokens = 1e6 pico-USD per token


@dataclass
class BudgetStack:
    settings: Settings
    admin_token: str
    redis: RedisServer
    hook: WebhookReceiver
    mail: MailSink

    def admin(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.settings.admin_url, timeout=30,
                            headers={"authorization": f"Bearer {token or self.admin_token}"})

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        with self.admin() as admin:
            response = admin.request(method, path, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def client(self, secret: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.settings.gateway_url, api_key=secret, max_retries=0)

    def upstream_requests(self) -> int:
        """Requests Envoy sent to the mock deployment (from its admin /clusters)."""
        text = httpx.get(f"http://127.0.0.1:{self.settings.envoy_admin_port}/clusters",
                         timeout=5).text
        return sum(int(line.rsplit("::", 1)[1]) for line in text.splitlines()
                   if line.startswith("omg_dep_") and "::rq_total::" in line)

    def records(self, **params: str) -> list[dict[str, Any]]:
        return list(self.ok("GET", "/api/v1/usage", params={**params, "limit": 1000})["data"])


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BudgetStack]:
    home: Path = tmp_path_factory.mktemp("omg-budgets")
    valkey = RedisServer(home / "valkey")
    valkey.start()
    mail = MailSink()
    smtp = Controller(mail, hostname="127.0.0.1", port=free_port())
    smtp.start()
    hook = WebhookReceiver()
    hook.start()
    settings = make_settings(home, "").model_copy(update={
        "redis_url": valkey.url, "redis_timeout_seconds": 0.5, "alert_interval_seconds": 0.3,
        "alert_backoff_seconds": 0.1, "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
        "smtp_from": "omg@gateway.test"})
    seeded = await asyncio.to_thread(prepare, settings)
    gateway = Stack(gateway_specs(settings), home / "logs")
    await gateway.start()
    try:
        yield BudgetStack(settings, seeded.admin_token, valkey, hook, mail)
    finally:
        await gateway.stop()
        smtp.stop()
        hook.stop()
        valkey.stop()


@pytest.fixture(scope="module")
def priced(stack: BudgetStack) -> Iterator[tuple[int, int]]:
    """The mock deployment at $1000 / $2000 per million input / output tokens."""
    stack.ok("POST", f"/api/v1/deployments/{DEPLOYMENT}/prices",
             json={"input": "1000", "output": "2000", "cached_input": "500"})
    yield 1000 * PICO_PER_TOKEN_PER_USD_PER_M, 2000 * PICO_PER_TOKEN_PER_USD_PER_M


def new_key(
    stack: BudgetStack, tenant: str = "demo", **fields: Any
) -> tuple[dict[str, Any], openai.OpenAI]:
    key = stack.ok("POST", f"/api/v1/tenants/{tenant}/keys", json={"name": "budget", **fields})
    client = stack.client(key["secret"])
    wait_until_known(client)
    return key, client


def chat(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.chat.completions.with_raw_response.create(
        model="mock-gpt", messages=MESSAGES, **kwargs)


def record_of(stack: BudgetStack, raw: Any) -> dict[str, Any]:
    request_id = raw.headers["x-request-id"]
    [record] = wait_for(lambda: stack.records(request_id=request_id))
    return record


def budget(stack: BudgetStack, **fields: Any) -> dict[str, Any]:
    return stack.ok("POST", "/api/v1/tenants/demo/budgets", json=fields)  # type: ignore[no-any-return]


def refused_for_budget(client: openai.OpenAI) -> bool:
    try:
        chat(client, max_tokens=5)
    except openai.RateLimitError as exc:
        return exc.response.json()["error"]["code"] == "budget_exceeded"  # type: ignore[no-any-return]
    return False


def test_each_record_keeps_the_cost_of_the_price_version_in_force(
    stack: BudgetStack, priced: tuple[int, int],
) -> None:
    _, client = new_key(stack)
    input_pico, output_pico = priced

    def first_priced() -> dict[str, Any] | None:
        record = record_of(stack, chat(client))
        return record if record["cost_pico"] else None

    old = wait_for(first_priced)
    expected = old["prompt_tokens"] * input_pico + old["completion_tokens"] * output_pico
    assert old["cost_pico"] == expected and old["cost_usd"] == pico_to_usd(expected)

    stack.ok("POST", f"/api/v1/deployments/{DEPLOYMENT}/prices",
             json={"input": "3000", "output": "2000"})

    def repriced() -> dict[str, Any] | None:
        record = record_of(stack, chat(client))
        cost = record["prompt_tokens"] * 3 * input_pico + record["completion_tokens"] * output_pico
        return record if record["cost_pico"] == cost else None

    wait_for(repriced)
    [again] = stack.records(request_id=old["request_id"])
    assert again["cost_pico"] == expected  # the past keeps its price
    versions = stack.ok("GET", f"/api/v1/deployments/{DEPLOYMENT}/prices")["data"]
    assert [v["input"] for v in versions[:2]] == ["3000", "1000"]
    assert versions[1]["cached_input"] == "500" and versions[0]["cached_input"] is None


def test_hard_limit_is_openais_429_budget_exceeded_before_any_upstream_call(
    stack: BudgetStack, priced: tuple[int, int],
) -> None:
    key, client = new_key(stack)
    budget(stack, scope="key", subject_id=key["id"], limit_usd="0.000001", period="daily",
           timezone="Europe/Paris")
    wait_for(lambda: refused_for_budget(client))
    before = stack.upstream_requests()
    with pytest.raises(openai.RateLimitError) as info:
        chat(client)
    error = info.value.response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("insufficient_quota",
                                                              "budget_exceeded", None)
    assert error["message"].startswith(f"Budget exceeded for key {key['id']}: daily limit $")
    time.sleep(0.3)
    assert stack.upstream_requests() == before  # the mock provider saw nothing


async def burst(stack: BudgetStack, secret: str, n: int) -> list[httpx.Response]:
    body = {"model": "mock-gpt", "messages": MESSAGES, "max_tokens": 5}
    headers = {"authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(timeout=60, headers=headers,
                                 limits=httpx.Limits(max_connections=n)) as client:
        url = f"{stack.settings.gateway_url}/chat/completions"
        return list(await asyncio.gather(*(client.post(url, json=body) for _ in range(n))))


async def test_200_concurrent_requests_overshoot_by_at_most_the_reservations_in_flight(
    stack: BudgetStack, priced: tuple[int, int],
) -> None:
    key, client = new_key(stack)
    one = record_of(stack, chat(client, max_tokens=5))  # what one request really costs
    limit = one["cost_pico"] * 20
    made = budget(stack, scope="key", subject_id=key["id"], limit_usd=pico_to_usd(limit),
                  period="total", soft_thresholds=[])
    assert made["spent_pico"] == one["cost_pico"]  # the budget counts what was spent before
    counter = f"omg:bg:{{{key['tenant_id']}}}:{made['id']}:0"
    store = redis.Redis.from_url(stack.redis.url)
    sent = [one]

    def counting() -> bool:  # the first request under the budget creates its counter
        sent.append(chat(client, max_tokens=5))
        return store.get(counter) is not None

    time.sleep(0.3)  # the budget reaches ext_proc (pushed when the POST returned)
    wait_for(counting)

    responses = await burst(stack, key["secret"], 200)
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429} and statuses.count(200) >= 1, sorted(set(statuses))
    refused = [r.json()["error"]["code"] for r in responses if r.status_code == 429]
    assert set(refused) == {"budget_exceeded"}

    def all_recorded() -> list[dict[str, Any]] | None:
        rows = stack.records(api_key_id=key["id"])
        return rows if len(rows) == len(sent) + 200 else None

    rows = wait_for(all_recorded, timeout=20)
    spent = sum(r["cost_pico"] for r in rows)
    wait_for(lambda: int(store.get(counter) or 0) == spent, timeout=5)  # settled exactly
    # Estimates (prompt bytes / 4 and max_tokens at the priciest price) are never below the
    # real cost here, so the overshoot bound (the reservations in flight) is in fact 0.
    assert limit // 2 <= spent <= limit, (spent, limit)
    shown = stack.ok("GET", f"/api/v1/tenants/demo/budgets/{made['id']}")
    assert shown["spent_pico"] == spent
    store.close()


def test_a_soft_threshold_alerts_once_per_period_by_signed_webhook_and_email(
    stack: BudgetStack, priced: tuple[int, int],
) -> None:
    hook = stack.ok("POST", "/api/v1/tenants/demo/alert-channels",
                    json={"name": "ops-hook", "kind": "webhook", "target": stack.hook.url})
    assert hook["secret"].startswith("whsec_")
    listed = stack.ok("GET", "/api/v1/tenants/demo/alert-channels")
    assert all("secret" not in c for c in listed)  # shown once, never again
    stack.ok("POST", "/api/v1/tenants/demo/alert-channels",
             json={"name": "ops-mail", "kind": "email", "target": "ops@tenant.test"})
    key, client = new_key(stack)
    cost = record_of(stack, chat(client, max_tokens=5))["cost_pico"]
    made = budget(stack, scope="key", subject_id=key["id"], limit_usd=pico_to_usd(cost * 3 // 2),
                  period="monthly", timezone="America/New_York", soft_thresholds=[50])

    [(headers, body)] = wait_for(lambda: stack.hook.for_budget(made["id"]), timeout=10)
    signed = headers["x-omg-timestamp"].encode() + b"." + body
    mac = hmac.new(hook["secret"].encode(), signed, hashlib.sha256).hexdigest()
    assert headers["x-omg-signature"] == f"sha256={mac}"
    assert abs(int(headers["x-omg-timestamp"]) - time.time()) < 60
    payload = json.loads(body)
    assert payload["kind"] == "budget.threshold" and payload["data"]["threshold_percent"] == 50
    [mail] = wait_for(lambda: stack.mail.about(made["id"]), timeout=10)
    assert mail.rcpt_tos == ["ops@tenant.test"]
    assert b'"threshold_percent": 50' in mail.content

    with pytest.raises(openai.RateLimitError):  # what is left does not cover an estimate
        chat(client, max_tokens=5)
    # Refused by this budget: the hard limit is reached, though spend stays below it.
    wait_for(lambda: len(stack.hook.for_budget(made["id"])) == 2, timeout=10)
    with pytest.raises(openai.RateLimitError):
        chat(client, max_tokens=5)
    time.sleep(1.5)  # several alert ticks later: each alert still once
    kinds = [json.loads(body)["kind"] for _, body in stack.hook.for_budget(made["id"])]
    assert kinds == ["budget.threshold", "budget.exhausted"]
    assert len(stack.mail.about(made["id"])) == 2
    fired = [a for a in stack.ok("GET", "/api/v1/tenants/demo/alerts")
             if a["payload"]["data"]["budget_id"] == made["id"]]
    assert sorted(a["kind"] for a in fired) == ["budget.exhausted", "budget.threshold"]
    for alert in fired:  # one successful attempt on each of the two channels
        assert sorted((d["attempt"], d["ok"]) for d in alert["deliveries"]) == [(1, True)] * 2
    # What is left shows on the control plane's /metrics, as the alert job last saw it.
    scrape = httpx.get(f"{stack.settings.admin_url}/metrics", timeout=10).text
    [line] = [x for x in scrape.splitlines()
              if x.startswith("omg_budget_remaining_usd{") and made["id"] in x]
    assert 'scope="key"' in line and 0 <= float(line.rsplit(" ", 1)[1]) < cost * 1.5 / 10**12


def test_an_override_raises_the_limit_until_it_expires_and_is_audited(
    stack: BudgetStack, priced: tuple[int, int],
) -> None:
    key, client = new_key(stack)
    made = budget(stack, scope="key", subject_id=key["id"], limit_usd="0.000001",
                  period="weekly")
    wait_for(lambda: refused_for_budget(client))
    overrides = f"/api/v1/tenants/demo/budgets/{made['id']}/overrides"
    expires = datetime.now(UTC) + timedelta(seconds=4)
    body = {"limit_usd": "100", "expires_at": expires.isoformat(), "reason": "launch day"}

    name = f"viewer-{uuid.uuid4().hex[:8]}"
    stack.ok("POST", "/api/v1/users", json={"name": name})
    stack.ok("POST", "/api/v1/tenants/demo/members", json={"user": name, "role": "analyst"})
    token = stack.ok("POST", f"/api/v1/users/{name}/tokens", json={"name": "t"})["secret"]
    with stack.admin(token) as analyst:
        denied = analyst.post(overrides, json=body)
        assert denied.status_code == 403 and "budgets:override" in denied.text
        assert analyst.get(f"/api/v1/tenants/demo/budgets/{made['id']}").is_success

    override = stack.ok("POST", overrides, json=body)
    assert override["limit_usd"] == "100"
    wait_for(lambda: chat(client, max_tokens=5).http_response.status_code == 200)
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.2)
    assert refused_for_budget(client)  # expired: the budget's own limit again

    events = stack.ok("GET", "/api/v1/audit", params={"action": "budget.override.create",
                                                      "target_id": override["id"]})["data"]
    assert len(events) == 1 and events[0]["after"]["reason"] == "launch day"


def test_member_and_tenant_budgets_count_and_limit_their_keys(
    stack: BudgetStack, priced: tuple[int, int],
) -> None:
    name = f"member-{uuid.uuid4().hex[:8]}"
    user = stack.ok("POST", "/api/v1/users", json={"name": name})
    stack.ok("POST", "/api/v1/tenants/demo/members", json={"user": name, "role": "viewer"})
    _, client = new_key(stack, user_id=user["id"])  # a personal key of the member
    cost = record_of(stack, chat(client, max_tokens=5))["cost_pico"]
    mine = budget(stack, scope="user", subject_id=user["id"], limit_usd=pico_to_usd(cost),
                  period="daily")
    assert mine["spent_pico"] == cost  # counted from the member's keys' records
    wait_for(lambda: refused_for_budget(client))  # spent == limit: exhausted

    tenant = stack.ok("POST", "/api/v1/tenants", json={"name": f"bt-{uuid.uuid4().hex[:6]}"})
    _, other = new_key(stack, tenant=tenant["name"])
    spent = record_of(stack, chat(other, max_tokens=5))["cost_pico"]
    made = stack.ok("POST", f"/api/v1/tenants/{tenant['id']}/budgets",
                    json={"scope": "tenant", "limit_usd": "1000", "period": "total"})
    assert (made["subject_id"], made["spent_pico"]) == (tenant["id"], spent)
    stranger = stack.ok("POST", "/api/v1/tenants/demo/keys", json={"name": "not-theirs"})
    with stack.admin() as admin:
        refused = admin.post(f"/api/v1/tenants/{tenant['id']}/budgets",
                             json={"scope": "key", "subject_id": stranger["id"],
                                   "limit_usd": "1", "period": "daily"})
    assert refused.status_code == 422  # another tenant's key is not a subject here


def omg(stack: BudgetStack, home: Path, *args: str, stdin: str | None = None) -> Result:
    env = {"OMG_HOME": str(home), "OMG_ADMIN_URL": stack.settings.admin_url,
           "OMG_ADMIN_TOKEN": stack.admin_token}
    return CliRunner().invoke(app, list(args), env=env, input=stdin)


def test_cli_prices_as_code_budgets_overrides_and_channels(
    stack: BudgetStack, priced: tuple[int, int], tmp_path: Path,
) -> None:
    exported = omg(stack, tmp_path, "export").stdout
    document = yaml.safe_load(exported)
    [mock] = [d for d in document["deployments"] if d["name"] == DEPLOYMENT]
    assert mock["price"]["output"] == "2000"
    assert omg(stack, tmp_path, "apply", "--dry-run", "-f", "-", stdin=exported
               ).stdout.splitlines()[0] == "No changes."
    mock["price"] = {**mock["price"], "output": 2000.0, "reasoning": "4000"}  # same output
    changed = omg(stack, tmp_path, "apply", "-f", "-", stdin=yaml.safe_dump(document))
    assert changed.exit_code == 0, changed.output
    assert f"~ deployment {DEPLOYMENT} (price: " in changed.stdout
    versions = json.loads(omg(stack, tmp_path, "prices", "list", DEPLOYMENT, "-o", "json").stdout)
    assert versions["data"][0]["reasoning"] == "4000" and versions["data"][0]["output"] == "2000"

    key, _ = new_key(stack)
    created = omg(stack, tmp_path, "budgets", "create", "-t", "demo", "5", "--key", key["id"],
                  "--period", "daily", "--alert-at", "50", "-o", "json")
    made = json.loads(created.stdout)
    assert (made["limit_usd"], made["soft_thresholds"]) == ("5", [50])
    assert made["id"] in omg(stack, tmp_path, "budgets", "list", "-t", "demo").stdout
    override = omg(stack, tmp_path, "budgets", "override", "-t", "demo", made["id"], "7.5",
                   "--reason", "demo day", "--hours", "1", "-o", "json")
    assert json.loads(override.stdout)["limit_usd"] == "7.5"
    channel = omg(stack, tmp_path, "alerts", "channels", "create", "hook-cli", "--kind",
                  "webhook", "--target", "http://127.0.0.1:9/x", "-t", "demo", "-o", "json")
    assert json.loads(channel.stdout)["secret"].startswith("whsec_")
    listed = omg(stack, tmp_path, "alerts", "channels", "list", "-t", "demo").stdout
    assert "hook-cli" in listed and "whsec_" not in listed
    assert "COST_USD" in omg(stack, tmp_path, "usage", "list", "-t", "demo").stdout
    fired = omg(stack, tmp_path, "alerts", "list", "-t", "demo").stdout
    assert "budget.threshold" in fired and "2/2 ok" in fired


def test_with_redis_down_budgets_fail_closed_and_rate_limits_fail_open(
    stack: BudgetStack, priced: tuple[int, int],
) -> None:
    budgeted, budget_client = new_key(stack)
    budget(stack, scope="key", subject_id=budgeted["id"], limit_usd="1000", period="daily")
    wait_for(lambda: chat(budget_client, max_tokens=5).http_response.status_code == 200)
    _, limited_client = new_key(stack, rpm_limit=1000)
    stack.redis.stop()
    try:
        with pytest.raises(openai.InternalServerError) as info:
            chat(budget_client, max_tokens=5)
        response = info.value.response
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        error = response.json()["error"]
        assert (error["type"], error["code"]) == ("server_error", "budget_unavailable")
        assert chat(limited_client).http_response.status_code == 200  # fails open
    finally:
        stack.redis.start()
