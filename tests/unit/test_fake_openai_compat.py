"""The parameterised OpenAI-compatible fake: per-provider paths, auth, errors, usage placement."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from translator_harness import sse_payloads

from fake_providers import FAKES
from fake_providers.openai_compat import FLAVORS, create_app

CHAT = {"openai": "/v1/chat/completions", "mistral": "/v1/chat/completions",
        "groq": "/openai/v1/chat/completions", "openrouter": "/api/v1/chat/completions",
        "cerebras": "/v1/chat/completions",
        "azure": "/openai/deployments/dep/chat/completions?api-version=2024-10-21"}
MESSAGES = [{"role": "user", "content": "one two"}]


def auth(flavor: str) -> dict[str, str]:
    return {"api-key": "k"} if flavor == "azure" else {"authorization": "Bearer k"}


async def call(flavor: str, method: str, path: str, body: Any = None,
               headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(flavor))
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        content = None if body is None else orjson.dumps(body)
        return await client.request(method, path, content=content,
                                    headers=auth(flavor) if headers is None else headers)


def test_every_flavor_registered() -> None:
    assert set(FLAVORS) <= set(FAKES)


@pytest.mark.asyncio
@pytest.mark.parametrize("flavor", sorted(CHAT))
async def test_auth_header_required_and_echoed(flavor: str) -> None:
    body = {"model": "m", "messages": MESSAGES}
    missing = await call(flavor, "POST", CHAT[flavor], body, {})
    assert missing.status_code == 401
    assert missing.headers["x-mock-saw-auth"] == "none"
    ok = await call(flavor, "POST", CHAT[flavor], body)
    assert ok.status_code == 200, ok.text
    assert ok.headers["x-mock-saw-auth"] == next(iter(auth(flavor).values()))
    assert ok.json()["choices"][0]["message"]["content"] == "Mock response to: one two"
    wrong_path = await call(flavor, "POST", "/nope/chat", body)
    assert wrong_path.status_code == 404


@pytest.mark.asyncio
async def test_provider_specific_rejections() -> None:
    base = {"model": "m", "messages": MESSAGES}
    mistral = await call("mistral", "POST", CHAT["mistral"],
                         {**base, "stream": True, "stream_options": {"include_usage": True}})
    assert mistral.status_code == 422
    assert mistral.json()["message"]["detail"][0]["loc"] == ["body", "stream_options"]
    groq = await call("groq", "POST", CHAT["groq"], {**base, "n": 2})
    assert groq.status_code == 400 and groq.json()["error"]["param"] == "n"
    cerebras = await call("cerebras", "POST", CHAT["cerebras"], {**base, "presence_penalty": 1})
    assert cerebras.status_code == 400 and cerebras.json()["param"] == "presence_penalty"
    no_version = await call("azure", "POST", "/openai/deployments/dep/chat/completions", base)
    assert no_version.status_code == 404
    orphan_tool = {**base, "messages": [*MESSAGES, {"role": "tool", "tool_call_id": "x",
                                                    "content": "r"}]}
    assert (await call("openai", "POST", CHAT["openai"], orphan_tool)).status_code == 400


@pytest.mark.asyncio
async def test_stream_usage_placement() -> None:
    body = {"model": "m", "messages": MESSAGES, "stream": True}
    groq = sse_payloads((await call("groq", "POST", CHAT["groq"], body)).content)
    assert groq[-2]["x_groq"]["usage"]["total_tokens"] == 10
    mistral = sse_payloads((await call("mistral", "POST", CHAT["mistral"], body)).content)
    assert mistral[-2]["choices"][0]["finish_reason"] == "stop" and mistral[-2]["usage"]
    openai_plain = sse_payloads((await call("openai", "POST", CHAT["openai"], body)).content)
    assert all("usage" not in p for p in openai_plain[:-1])
    asked = {**body, "stream_options": {"include_usage": True}}
    openai_usage = sse_payloads((await call("openai", "POST", CHAT["openai"], asked)).content)
    assert openai_usage[-2]["choices"] == [] and openai_usage[-2]["usage"]["total_tokens"] == 10
    router = await call("openrouter", "POST", CHAT["openrouter"], body)
    assert router.content.startswith(b": OPENROUTER PROCESSING\n\n")


@pytest.mark.asyncio
async def test_openrouter_models_and_embeddings() -> None:
    models = await call("openrouter", "GET", "/api/v1/models", headers={})
    assert models.status_code == 200
    assert {m["id"] for m in models.json()["data"]} >= {"mock/fast", "openrouter/auto"}
    mistral = await call("mistral", "POST", "/v1/embeddings",
                         {"model": "mistral-embed", "input": ["a"], "output_dimension": 5})
    assert len(mistral.json()["data"][0]["embedding"]) == 5
    extra = await call("mistral", "POST", "/v1/embeddings",
                       {"model": "mistral-embed", "input": ["a"], "dimensions": 5})
    assert extra.status_code == 422
    assert (await call("groq", "POST", "/openai/v1/embeddings", {"input": "a"})).status_code == 404
