"""End to end through the real Envoy, with the official openai SDK as the client."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import openai
import pytest

from mock_provider.responses import count_prompt_tokens, count_text_tokens
from tests.conftest import free_port
from tests.integration.conftest import TEST_MAX_BODY_BYTES, Gateway, wait_for

pytestmark = pytest.mark.integration

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello to the gateway please"},
]
EXPECTED_CONTENT = "Mock response to: Say hello to the gateway please"


def expected_usage() -> tuple[int, int]:
    return count_prompt_tokens(MESSAGES), count_text_tokens(EXPECTED_CONTENT)


def test_chat_completion_sync(gateway: Gateway) -> None:
    raw = gateway.client().chat.completions.with_raw_response.create(
        model="mock-gpt", messages=MESSAGES  # type: ignore[arg-type]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == EXPECTED_CONTENT
    prompt, completion_tokens = expected_usage()
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (
        prompt, completion_tokens,
    )
    # The demo deployment has no credential: the client's key must not reach the provider.
    assert raw.headers["x-mock-saw-authorization"] == "none"
    assert raw.headers["x-request-id"]


def test_usage_recorded_for_sync_chat(gateway: Gateway) -> None:
    raw = gateway.client().chat.completions.with_raw_response.create(
        model="mock-gpt", messages=MESSAGES  # type: ignore[arg-type]
    )
    request_id = raw.headers["x-request-id"]
    [record] = wait_for(lambda: gateway.usage(request_id))
    prompt, completion = expected_usage()
    assert record["status"] == 200
    assert record["model"] == "mock-gpt"
    assert record["provider"] == "openai"
    assert record["endpoint"] == "chat.completions"
    assert record["deployment_id"].startswith("dep_")
    assert record["tenant_id"].startswith("ten_")
    assert record["api_key_id"].startswith("key_")
    assert (record["prompt_tokens"], record["completion_tokens"], record["total_tokens"]) == (
        prompt, completion, prompt + completion,
    )
    assert record["stream"] is False
    assert record["latency_ms"] > 0
    assert record["ttft_ms"] is None


def test_streaming_arrives_chunk_by_chunk(gateway: Gateway) -> None:
    delay_ms = 150
    stream = gateway.client().chat.completions.create(
        model="mock-gpt", messages=MESSAGES, stream=True,  # type: ignore[arg-type]
        extra_headers={"x-mock-chunk-delay-ms": str(delay_ms)},
    )
    arrivals: list[float] = []
    parts: list[str] = []
    for chunk in stream:
        arrivals.append(time.monotonic())
        assert chunk.usage is None, "the client did not ask for usage"
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    assert "".join(parts) == EXPECTED_CONTENT
    # Buffered to the end, every chunk would arrive at once; streamed, they are spread out.
    spread = arrivals[-1] - arrivals[0]
    assert spread >= (len(arrivals) - 2) * delay_ms / 1000 * 0.8


def test_streaming_usage_chunk_when_asked_and_recorded(gateway: Gateway) -> None:
    raw = gateway.client().chat.completions.with_raw_response.create(
        model="mock-gpt", messages=MESSAGES, stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True},
    )
    chunks = list(raw.parse())
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0].choices == []
    prompt, completion = expected_usage()
    assert usage_chunks[0].usage is not None
    assert usage_chunks[0].usage.prompt_tokens == prompt
    [record] = wait_for(lambda: gateway.usage(raw.headers["x-request-id"]))
    assert record["stream"] is True
    assert (record["prompt_tokens"], record["completion_tokens"]) == (prompt, completion)
    assert record["ttft_ms"] is not None and 0 < record["ttft_ms"] <= record["latency_ms"]


def test_streaming_usage_recorded_even_when_client_did_not_ask(gateway: Gateway) -> None:
    raw = gateway.client().chat.completions.with_raw_response.create(
        model="mock-gpt", messages=MESSAGES, stream=True,  # type: ignore[arg-type]
    )
    assert all(c.usage is None for c in raw.parse())
    [record] = wait_for(lambda: gateway.usage(raw.headers["x-request-id"]))
    assert record["completion_tokens"] == expected_usage()[1]


def test_embeddings(gateway: Gateway) -> None:
    result = gateway.client().embeddings.create(model="mock-gpt", input=["hello world", "bye"])
    assert [d.index for d in result.data] == [0, 1]
    assert all(len(d.embedding) > 0 for d in result.data)
    assert result.usage.prompt_tokens > 0


def test_models_lists_what_the_key_may_use(gateway: Gateway) -> None:
    ids = [m.id for m in gateway.client().models.list()]
    assert "mock-gpt" in ids
    assert gateway.client().models.retrieve("mock-gpt").id == "mock-gpt"
    with pytest.raises(openai.NotFoundError):
        gateway.client().models.retrieve("no-such-model")


def test_missing_or_unknown_key_is_401(gateway: Gateway) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        gateway.client(api_key="omg-not-a-real-key").chat.completions.create(
            model="mock-gpt", messages=MESSAGES  # type: ignore[arg-type]
        )
    assert info.value.status_code == 401
    assert info.value.code == "invalid_api_key"
    response = httpx.post(f"{gateway.base_url}/chat/completions", json={"model": "mock-gpt"})
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_unknown_model_is_404(gateway: Gateway) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        gateway.client().chat.completions.create(
            model="does-not-exist", messages=MESSAGES  # type: ignore[arg-type]
        )
    assert info.value.code == "model_not_found"
    assert info.value.param == "model"


def test_malformed_json_is_400(gateway: Gateway) -> None:
    response = httpx.post(
        f"{gateway.base_url}/chat/completions",
        content=b'{"model": "mock-gpt", "messages": [',
        headers={"authorization": f"Bearer {gateway.demo_key}",
                 "content-type": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_json" and error["type"] == "invalid_request_error"


def test_oversize_body_is_413_in_openai_format(gateway: Gateway) -> None:
    huge = "x" * (TEST_MAX_BODY_BYTES + 1024)
    with pytest.raises(openai.APIStatusError) as info:
        gateway.client().chat.completions.create(
            model="mock-gpt", messages=[{"role": "user", "content": huge}]
        )
    assert info.value.status_code == 413
    body = info.value.body
    assert isinstance(body, dict) and body["code"] == "request_too_large"


def test_unknown_path_is_404(gateway: Gateway) -> None:
    response = httpx.post(
        f"{gateway.base_url}/nothing/here", json={},
        headers={"authorization": f"Bearer {gateway.demo_key}"},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_url"


def test_upstream_error_passes_through_and_is_recorded(gateway: Gateway) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        gateway.client().chat.completions.with_raw_response.create(
            model="mock-gpt", messages=MESSAGES,  # type: ignore[arg-type]
            extra_headers={"x-mock-error-status": "429"},
        )
    request_id = info.value.response.headers["x-request-id"]
    [record] = wait_for(lambda: gateway.usage(request_id))
    assert record["status"] == 429 and record["total_tokens"] == 0


def test_hot_added_deployment_reaches_new_upstream_with_its_credential(gateway: Gateway) -> None:
    port = free_port()
    mock = subprocess.Popen(
        [sys.executable, "-m", "mock_provider", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _healthy(f"http://127.0.0.1:{port}/healthz"))
        model = f"hot-{gateway.backend}"
        with gateway.admin() as admin:
            assert admin.post("/api/v1/models", json={"name": model}).status_code == 201
            created = admin.post("/api/v1/deployments", json={
                "name": f"{model}-dep", "model": model, "upstream_model": "mock-gpt-mini",
                "base_url": f"http://127.0.0.1:{port}/v1", "api_key": "sk-upstream-secret",
            })
            assert created.status_code == 201, created.text
            deployment = created.json()
            listed = admin.get("/api/v1/deployments").json()["data"]
        assert "sk-upstream-secret" not in str(deployment) + str(listed)
        assert deployment["credential_fingerprint"].startswith("sha256:")
        cluster = f"omg_dep_{deployment['id']}::127.0.0.1:{port}"
        wait_for(lambda: cluster in gateway.envoy_clusters())
        raw = wait_for(lambda: _try_chat(gateway, model), timeout=5)
        assert raw.headers["x-mock-saw-authorization"] == "Bearer sk-upstream-secret"
        assert raw.parse().model == "mock-gpt-mini"  # upstream model name was rewritten
    finally:
        mock.terminate()
        mock.wait(5)


def test_revoked_key_is_refused_within_two_seconds(gateway: Gateway) -> None:
    with gateway.admin() as admin:
        created = admin.post("/api/v1/tenants/demo/keys", json={"name": "short-lived"})
        assert created.status_code == 201
        key = created.json()
        assert key["secret"].startswith("omg-") and key["prefix"] == key["secret"][:12]
        listed = admin.get("/api/v1/tenants/demo/keys").json()["data"]
        assert all("secret" not in k and "key_hash" not in k for k in listed)
        client = gateway.client(api_key=key["secret"])
        wait_for(lambda: _try_chat(gateway, "mock-gpt", client), timeout=5)
        revoked = admin.post(f"/api/v1/tenants/demo/keys/{key['id']}/revoke")
        assert revoked.status_code == 200
    revoked_at = time.monotonic()
    wait_for(lambda: _is_refused(client), timeout=2.0)
    assert time.monotonic() - revoked_at < 2.0


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _try_chat(gateway: Gateway, model: str, client: openai.OpenAI | None = None) -> object:
    try:
        return (client or gateway.client()).chat.completions.with_raw_response.create(
            model=model, messages=MESSAGES  # type: ignore[arg-type]
        )
    except (openai.NotFoundError, openai.AuthenticationError):
        return None


def _is_refused(client: openai.OpenAI) -> bool:
    try:
        client.chat.completions.create(model="mock-gpt", messages=MESSAGES)  # type: ignore[arg-type]
    except openai.AuthenticationError:
        return True
    return False


def test_client_cannot_choose_the_request_id(gateway: Gateway) -> None:
    """Usage is idempotent by request id, so a client-chosen id must not collide records."""
    ids = []
    for _ in range(2):
        raw = gateway.client().chat.completions.with_raw_response.create(
            model="mock-gpt", messages=MESSAGES,  # type: ignore[arg-type]
            extra_headers={"x-request-id": "chosen-by-client"},
        )
        ids.append(raw.headers["x-request-id"])
    assert "chosen-by-client" not in ids and ids[0] != ids[1]
    for request_id in ids:
        wait_for(lambda rid=request_id: gateway.usage(rid))
