"""One conformance suite over provider x capability, through the real Envoy.

Each translator declares its capabilities; for each one, the official openai SDK talks to the
gateway, the upstream-level ext_proc translates and signs for the provider, the provider's fake
(speaking its real wire format, validating requests) answers, and the SDK must parse the reply.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from ext_proc.translators import base as caps
from ext_proc.translators.registry import TRANSLATORS
from fake_providers import FAKES
from tests.conftest import free_port
from tests.integration.conftest import Gateway, wait_for
from tests.integration.providers import provider_setup

pytestmark = pytest.mark.integration

PROVIDERS = sorted(p for p in TRANSLATORS if p in FAKES)
CASES = [(p, c) for p in PROVIDERS for c in sorted(TRANSLATORS[p].capabilities)]
USER = [{"role": "user", "content": "Say hello to the gateway"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]},
    },
}
TOOL_PROMPT = [{"role": "user", "content": "Use get_weather for Paris please"}]
# A 1x1 transparent PNG.
PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU"
         "5ErkJggg==")


@dataclass
class Deployed:
    model: str
    deployment_id: str
    saw_auth_prefix: str
    embedding_model: str


@pytest.fixture(scope="session")
def gateway(providers_gateway: Gateway) -> Gateway:
    """This module's tests share one stack of their own (see `providers_gateway`)."""
    return providers_gateway


@pytest.fixture(scope="session")
def providers(gateway: Gateway) -> Iterator[dict[str, Deployed]]:
    fakes: list[subprocess.Popen[bytes]] = []
    deployed: dict[str, Deployed] = {}
    try:
        with gateway.admin() as admin:
            for provider in PROVIDERS:
                port = free_port()
                fakes.append(subprocess.Popen(
                    [sys.executable, "-m", "fake_providers", provider, "--port", str(port)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                deployed[provider] = deploy(admin, provider, f"http://127.0.0.1:{port}")
        for fake_port in _ports(deployed, gateway):
            wait_for(lambda p=fake_port: _healthy(p), timeout=20)
        yield deployed
    finally:
        for fake in fakes:
            fake.terminate()
            fake.wait(5)


def deploy(admin: httpx.Client, provider: str, fake_url: str) -> Deployed:
    setup = provider_setup(provider, fake_url)
    model = f"conf-{provider}"
    deployment_id = add_model(admin, provider, fake_url, model, f"{provider}-model")
    embedding_model = model
    if setup.embedding_model:
        embedding_model = f"{model}-embeddings"
        add_model(admin, provider, fake_url, embedding_model, setup.embedding_model)
    return Deployed(model, deployment_id, setup.saw_auth_prefix, embedding_model)


def add_model(
    admin: httpx.Client, provider: str, fake_url: str, model: str, upstream_model: str
) -> str:
    setup = provider_setup(provider, fake_url)
    assert admin.post("/api/v1/models", json={"name": model}).status_code == 201
    response = admin.post("/api/v1/deployments", json={
        "name": f"{model}-fake", "model": model, "provider": provider,
        "base_url": fake_url + setup.base_path, "upstream_model": upstream_model,
        "api_key": setup.credential, "options": setup.options,
    })
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _ports(deployed: dict[str, Deployed], gateway: Gateway) -> list[int]:
    with gateway.admin() as admin:
        rows = admin.get("/api/v1/deployments", params={"limit": 1000}).json()["data"]
    ids = {d.deployment_id for d in deployed.values()}
    wait_for(lambda: all(f"omg_dep_{i}::" in gateway.envoy_clusters() for i in ids), timeout=10)
    return [int(r["base_url"].split(":")[2].split("/")[0]) for r in rows if r["id"] in ids]


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def chat(gateway: Gateway, deployed: Deployed, **kwargs: Any) -> Any:
    kwargs.setdefault("messages", USER)
    return gateway.client().chat.completions.with_raw_response.create(
        model=deployed.model, **kwargs
    )


def check_chat(gateway: Gateway, d: Deployed) -> None:
    raw = chat(gateway, d)
    reply = raw.parse()
    assert reply.choices[0].message.content.startswith("Mock response to")
    assert reply.usage is not None and reply.usage.prompt_tokens > 0
    assert raw.headers["x-mock-saw-auth"].startswith(d.saw_auth_prefix)
    [record] = wait_for(lambda: gateway.usage(raw.headers["x-request-id"]))
    assert record["deployment_id"] == d.deployment_id and record["status"] == 200
    assert record["prompt_tokens"] == reply.usage.prompt_tokens
    assert record["completion_tokens"] == reply.usage.completion_tokens


def check_chat_stream(gateway: Gateway, d: Deployed) -> None:
    expected = chat(gateway, d).parse().choices[0].message.content
    raw = chat(gateway, d, stream=True, stream_options={"include_usage": True})
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == expected
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 2
    assert [c for c in chunks if c.usage is not None], "a usage chunk was asked for"
    [record] = wait_for(lambda: gateway.usage(raw.headers["x-request-id"]))
    assert record["stream"] is True and record["completion_tokens"] > 0


def check_embeddings(gateway: Gateway, d: Deployed) -> None:
    result = gateway.client().embeddings.create(model=d.embedding_model, input="hello embeddings")
    assert len(result.data) == 1 and len(result.data[0].embedding) > 0


def check_tools(gateway: Gateway, d: Deployed) -> None:
    reply = chat(gateway, d, messages=TOOL_PROMPT, tools=[WEATHER_TOOL]).parse()
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert "city" in json.loads(call.function.arguments)


def check_tools_stream(gateway: Gateway, d: Deployed) -> None:
    raw = chat(gateway, d, messages=TOOL_PROMPT, tools=[WEATHER_TOOL], stream=True)
    name, arguments, finish = "", "", None
    for chunk in raw.parse():
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for call in choice.delta.tool_calls or []:
                name += call.function.name or ""
                arguments += call.function.arguments or ""
    assert name == "get_weather" and "city" in json.loads(arguments)
    assert finish == "tool_calls"


def check_vision(gateway: Gateway, d: Deployed) -> None:
    content = [{"type": "text", "text": "Describe this picture"},
               {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}}]
    reply = chat(gateway, d, messages=[{"role": "user", "content": content}]).parse()
    assert reply.choices[0].message.content


def check_json_mode(gateway: Gateway, d: Deployed) -> None:
    messages = [{"role": "user", "content": "Answer in JSON please"}]
    reply = chat(gateway, d, messages=messages, response_format={"type": "json_object"}).parse()
    assert isinstance(json.loads(reply.choices[0].message.content), dict)


def check_json_schema(gateway: Gateway, d: Deployed) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}},
              "required": ["answer"], "additionalProperties": False}
    response_format = {"type": "json_schema",
                       "json_schema": {"name": "reply", "schema": schema, "strict": True}}
    reply = chat(gateway, d, response_format=response_format).parse()
    assert "answer" in json.loads(reply.choices[0].message.content)


def check_n(gateway: Gateway, d: Deployed) -> None:
    reply = chat(gateway, d, n=2).parse()
    assert [c.index for c in reply.choices] == [0, 1]


CHECKS = {
    caps.CHAT: check_chat, caps.CHAT_STREAM: check_chat_stream,
    caps.EMBEDDINGS: check_embeddings, caps.TOOLS: check_tools,
    caps.TOOLS_STREAM: check_tools_stream, caps.VISION: check_vision,
    caps.JSON_MODE: check_json_mode, caps.JSON_SCHEMA: check_json_schema, caps.N_CHOICES: check_n,
}


def test_every_declared_capability_has_a_check() -> None:
    declared = {c for t in TRANSLATORS.values() for c in t.capabilities}
    assert declared <= set(CHECKS)


@pytest.mark.parametrize(("provider", "capability"), CASES, ids=[f"{p}-{c}" for p, c in CASES])
def test_conformance(
    gateway: Gateway, providers: dict[str, Deployed], provider: str, capability: str
) -> None:
    CHECKS[capability](gateway, providers[provider])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_errors_are_openai_format(
    gateway: Gateway, providers: dict[str, Deployed], provider: str
) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        chat(gateway, providers[provider], extra_headers={"x-mock-error-status": "429"})
    assert info.value.status_code == 429
    body = info.value.body
    assert isinstance(body, dict) and body.get("message")


def test_credential_rotation_applies_without_restart(
    gateway: Gateway, providers: dict[str, Deployed]
) -> None:
    deployed = providers["anthropic"]
    with gateway.admin() as admin:
        patched = admin.patch(f"/api/v1/deployments/{deployed.deployment_id}",
                              json={"api_key": "rotated-anthropic-key"})
        assert patched.status_code == 200, patched.text
        assert "rotated-anthropic-key" not in patched.text
        try:
            wait_for(lambda: chat(gateway, deployed).headers["x-mock-saw-auth"]
                     == "rotated-anthropic-key", timeout=2.0)
        finally:
            admin.patch(f"/api/v1/deployments/{deployed.deployment_id}",
                        json={"api_key": "key-anthropic"})


def test_openrouter_catalog_sync_creates_routable_models(
    gateway: Gateway, providers: dict[str, Deployed]
) -> None:
    template = providers["openrouter"].deployment_id
    with gateway.admin() as admin:
        first = admin.post("/api/v1/providers/openrouter/sync",
                           json={"deployment": template, "prefix": "or/"})
        assert first.status_code == 200, first.text
        assert "or/mock/fast" in first.json()["created"]
        again = admin.post("/api/v1/providers/openrouter/sync",
                           json={"deployment": template, "prefix": "or/"})
        assert again.json()["created"] == [] and "or/mock/fast" in again.json()["existing"]
        wrong = admin.post("/api/v1/providers/openrouter/sync",
                           json={"deployment": providers["anthropic"].deployment_id})
        assert wrong.status_code == 422
    raw = wait_for(lambda: _chat_or_none(gateway, "or/mock/fast"), timeout=5)
    assert raw.headers["x-mock-saw-auth"] == "Bearer key-openrouter"
    assert "or/mock/fast" in [m.id for m in gateway.client().models.list()]


def _chat_or_none(gateway: Gateway, model: str) -> Any:
    try:
        return gateway.client().chat.completions.with_raw_response.create(
            model=model, messages=USER)  # type: ignore[arg-type]
    except openai.NotFoundError:
        return None


def test_active_health_check_marks_a_dead_on_prem_endpoint(
    gateway: Gateway, providers: dict[str, Deployed]
) -> None:
    """Cerebras on-prem: Envoy probes `health_check_path` itself and ejects a dead endpoint."""
    with gateway.admin() as admin:
        rows = admin.get("/api/v1/deployments", params={"limit": 1000}).json()["data"]
        [live] = [r for r in rows if r["id"] == providers["cerebras"].deployment_id]
        ids = {}
        for name, base_url in (("hc-live", live["base_url"]),
                               ("hc-dead", f"http://127.0.0.1:{free_port()}/v1")):
            assert admin.post("/api/v1/models", json={"name": name}).status_code == 201
            created = admin.post("/api/v1/deployments", json={
                "name": name, "model": name, "provider": "cerebras", "base_url": base_url,
                "api_key": "key-cerebras",
                "options": {"health_check_path": "/healthz", "health_check_interval": "0.5s"},
            })
            assert created.status_code == 201, created.text
            ids[name] = created.json()["id"]

    def flags(name: str) -> str:
        prefix = f"omg_dep_{ids[name]}::"
        lines = [line for line in gateway.envoy_clusters().splitlines()
                 if line.startswith(prefix) and "::health_flags::" in line]
        return lines[0].rsplit("::", 1)[1] if lines else ""

    wait_for(lambda: flags("hc-live") == "healthy", timeout=10)
    wait_for(lambda: "failed_active_hc" in flags("hc-dead"), timeout=10)
    with gateway.admin() as admin:
        health = {d["id"]: d for d in admin.get("/api/v1/health/deployments").json()}
    assert health[ids["hc-dead"]]["envoy"] == "failed_health_check"
    assert health[ids["hc-dead"]]["status"] == "unhealthy"
    assert health[ids["hc-live"]]["envoy"] == "healthy"


def test_a_parameter_the_provider_cannot_honour_is_a_400_naming_it(
    gateway: Gateway, providers: dict[str, Deployed]
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        chat(gateway, providers["anthropic"], n=2)
    assert info.value.status_code == 400 and info.value.param == "n"
    [record] = wait_for(lambda: gateway.usage(info.value.response.headers["x-request-id"]))
    assert record["status"] == 400 and record["total_tokens"] == 0
