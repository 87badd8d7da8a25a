"""OpenAI-compatible translators: per-provider request rules, stream usage, errors, round trips."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from translator_harness import assert_split_invariant, call_fake, feed, fixture, sse_payloads

from ext_proc.translators import base
from ext_proc.translators.base import Target, TranslationError
from ext_proc.translators.openai_compat import AZURE_DEFAULT_API_VERSION, PROFILES
from ext_proc.translators.openai_compat_response import CompatStreamResponse
from ext_proc.translators.registry import translator_for
from ext_proc.usage import Usage
from fake_providers import openai_compat as compat_fake

MESSAGES = [{"role": "user", "content": "one two three"}]
BASE_PATHS = {"openai": "/v1", "azure": "", "mistral": "/v1", "groq": "/openai/v1",
              "openrouter": "/api/v1", "cerebras": "/v1"}
AUTH = {name: {"authorization": f"Bearer key-{name}"} for name in BASE_PATHS}
AUTH["azure"] = {"api-key": "key-azure"}
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {
    "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}


def target(provider: str, model: str = "up-model", **options: str) -> Target:
    return Target(provider, model, BASE_PATHS[provider], options)


def request_body(provider: str, body: dict[str, Any], endpoint: str = "chat.completions") -> Any:
    upstream = translator_for(provider).request(endpoint, body, target(provider))
    return orjson.loads(upstream.body)


def test_registry_and_capabilities() -> None:
    assert set(PROFILES) == set(BASE_PATHS)
    assert base.EMBEDDINGS in translator_for("mistral").capabilities
    assert base.EMBEDDINGS not in translator_for("cerebras").capabilities
    assert base.N_CHOICES not in translator_for("groq").capabilities


def test_paths() -> None:
    chat = {"model": "m", "messages": MESSAGES}
    assert translator_for("openai").request("chat.completions", chat, target("openai")).path == (
        "/v1/chat/completions")
    assert translator_for("openrouter").request("chat.completions", chat,
                                                target("openrouter")).path == (
        "/api/v1/chat/completions")
    azure = translator_for("azure")
    assert azure.request("embeddings", {"model": "m", "input": "x"}, target("azure")).path == (
        f"/openai/deployments/up-model/embeddings?api-version={AZURE_DEFAULT_API_VERSION}")
    custom = target("azure", deployment="dep1", api_version="2025-01-01-preview")
    assert azure.request("chat.completions", chat, custom).path == (
        "/openai/deployments/dep1/chat/completions?api-version=2025-01-01-preview")
    with pytest.raises(TranslationError) as no_embeddings:
        translator_for("cerebras").request("embeddings", {"input": "x"}, target("cerebras"))
    assert no_embeddings.value.status == 404


def test_openai_passthrough_with_model_rename_and_stream_usage() -> None:
    body = {"model": "alias", "messages": MESSAGES, "logit_bias": {"1": 1}, "user": "u"}
    assert request_body("openai", body) == {**body, "model": "up-model"}
    streamed = request_body("openai", {**body, "stream": True,
                                       "stream_options": {"include_usage": False}})
    assert streamed["stream_options"] == {"include_usage": True}
    keep = translator_for("openai").request("chat.completions", body, Target("openai", ""))
    assert orjson.loads(keep.body)["model"] == "alias"


def test_mistral_differences() -> None:
    body = {"model": "a", "messages": MESSAGES, "seed": 3, "max_completion_tokens": 9,
            "max_tokens": 4, "stream": True, "stream_options": {"include_usage": True},
            "tool_choice": "required", "n": 2, "user": "u", "store": False}
    out = request_body("mistral", body)
    assert out == {"model": "up-model", "messages": MESSAGES, "random_seed": 3, "max_tokens": 9,
                   "stream": True, "tool_choice": "required", "n": 2}
    embeddings = request_body("mistral", {"model": "e", "input": ["x"], "dimensions": 8,
                                          "user": "u"}, "embeddings")
    assert embeddings == {"model": "up-model", "input": ["x"], "output_dimension": 8}
    with pytest.raises(TranslationError) as rejected:
        request_body("mistral", {"model": "a", "messages": MESSAGES, "logprobs": True})
    assert rejected.value.param == "logprobs"


def test_groq_and_cerebras_rules() -> None:
    body = {"model": "a", "messages": MESSAGES, "logprobs": True, "top_logprobs": 2,
            "logit_bias": {"1": 1}, "n": 1}
    assert request_body("groq", body) == {"model": "up-model", "messages": MESSAGES, "n": 1}
    with pytest.raises(TranslationError) as n:
        request_body("groq", {**body, "n": 2})
    assert n.value.param == "n"
    plain = {"model": "a", "messages": MESSAGES, "parallel_tool_calls": True,
             "service_tier": "auto"}
    assert request_body("cerebras", plain) == {"model": "up-model", "messages": MESSAGES}
    for param in ("frequency_penalty", "presence_penalty", "logit_bias"):
        with pytest.raises(TranslationError) as caught:
            request_body("cerebras", {**plain, param: 0.5})
        assert caught.value.param == param


@pytest.mark.parametrize("provider", ["groq", "mistral", "openrouter"])
def test_stream_usage_normalised(provider: str) -> None:
    data = fixture("openai_compat/streams.json")
    raw = data[provider].encode()
    whole = assert_split_invariant(CompatStreamResponse, raw)
    payloads = sse_payloads(whole)
    assert payloads[-1] == "[DONE]"
    chunks = [ChatCompletionChunk.model_validate(p) for p in payloads[:-1]]
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert usage_chunks == [chunks[-1]] and chunks[-1].choices == []
    assert all("usage" not in (p.get("x_groq") or {}) for p in payloads[:-1])
    prompt, completion, total, cached = data["expected_usage"][provider]
    translator = CompatStreamResponse()
    feed(translator, [raw])
    assert translator.usage == Usage(prompt, completion, total, cached, 0)
    assert b"OPENROUTER PROCESSING" not in whole
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hi"


def test_stream_without_usage_and_without_done() -> None:
    raw = b'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m",' \
          b'"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}\n\n'
    payloads = sse_payloads(feed(CompatStreamResponse(), [raw]))
    assert payloads[-1] == "[DONE]" and len(payloads) == 2


def test_non_streaming_usage_and_groq_passthrough() -> None:
    body = {"id": "c", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7,
                      "prompt_tokens_details": {"cached_tokens": 3},
                      "completion_tokens_details": {"reasoning_tokens": 1}},
            "x_groq": {"id": "req_1"}}
    raw = orjson.dumps(body)
    translator = translator_for("groq").response("chat.completions", 200, False, "m")
    assert translator.body(raw, True) == raw
    assert translator.usage == Usage(5, 2, 7, 3, 1)
    moved = {**body, "usage": None, "x_groq": {"id": "r", "usage": body["usage"]}}
    out = orjson.loads(translator.body(orjson.dumps(moved), True))
    assert out["usage"] == body["usage"] and out["x_groq"] == {"id": "r"}


def test_errors_normalised() -> None:
    for case in fixture("openai_compat/errors.json")["cases"]:
        translator = translator_for(case["provider"]).response(
            "chat.completions", case["status"], True, "m")
        raw = case["raw"].encode() if "raw" in case else orjson.dumps(case["body"])
        out = orjson.loads(feed(translator, [raw[:5], raw[5:]]))
        error = out["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert case["message_contains"] in error["message"], case
        assert (error["type"], error["code"]) == (case["type"], case["code"]), case
        assert translator.status(case["status"]) == case["client_status"]
        assert translator.headers() == (("content-type", "application/json"),)


# -- round trips through the fake ---------------------------------------------------------------


async def round_trip(
    provider: str, body: dict[str, Any], endpoint: str = "chat.completions",
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes, Any]:
    translator = translator_for(provider)
    upstream = translator.request(endpoint, body, target(provider))
    reply = await call_fake(compat_fake.create_app(provider), upstream,
                            {**AUTH[provider], **(headers or {})})
    assert reply.headers["x-mock-saw-auth"] == next(iter(AUTH[provider].values()))
    response = translator.response(endpoint, reply.status_code, bool(body.get("stream")), "m")
    return response.status(reply.status_code), feed(response, [reply.content]), response.usage


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", list(BASE_PATHS))
async def test_round_trip_chat_stream_and_tools(provider: str) -> None:
    body = {"model": "alias", "messages": MESSAGES, "max_tokens": 50, "seed": 1}
    status, out, usage = await round_trip(provider, body)
    assert status == 200, out
    completion = ChatCompletion.model_validate_json(out)
    assert completion.choices[0].message.content == "Mock response to: one two three"
    assert usage == Usage(6, 6, 12)

    status, out, usage = await round_trip(provider, {**body, "stream": True})
    assert status == 200, out
    payloads = sse_payloads(out)
    # Azure opens with a `prompt_filter_results` chunk (`object: ""`, no choices), passed on.
    filters = [p for p in payloads[:-1] if p.get("object") == ""]
    assert len(filters) == (provider == "azure")
    chunks = [ChatCompletionChunk.model_validate(p) for p in payloads[:-1] if p not in filters]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 12 and usage == Usage(6, 6, 12)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Mock response to: one two three"

    tools = {**body, "messages": [{"role": "user", "content": "please lookup x"}],
             "tools": [TOOL], "stream": True}
    status, out, _ = await round_trip(provider, tools)
    deltas = [p["choices"][0]["delta"] for p in sse_payloads(out)[:-1] if p["choices"]]
    calls = [call for delta in deltas for call in delta.get("tool_calls", [])]
    assert calls[0]["function"]["name"] == "lookup"
    assert "".join(c["function"]["arguments"] for c in calls) == '{"q":"mock"}'


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", ["openai", "azure", "mistral"])
async def test_round_trip_embeddings(provider: str) -> None:
    body = {"model": "e", "input": ["alpha beta", "gamma"], "dimensions": 4}
    status, out, usage = await round_trip(provider, body, "embeddings")
    assert status == 200, out
    parsed = CreateEmbeddingResponse.model_validate_json(out)
    assert [len(item.embedding) for item in parsed.data] == [4, 4]
    assert usage == Usage(3, 0, 3)


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", list(BASE_PATHS))
async def test_round_trip_injected_error(provider: str) -> None:
    body = {"model": "alias", "messages": MESSAGES}
    status, out, _ = await round_trip(provider, body, headers={"x-mock-error-status": "429"})
    assert status == 429
    error = orjson.loads(out)["error"]
    assert set(error) == {"message", "type", "param", "code"} and "Injected" in error["message"]
