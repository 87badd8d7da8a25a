"""The Gemini fake: Google's validation rules and error bodies, auth per path, wire format."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from fake_providers import FAKES
from fake_providers import gemini as fake

STUDIO = "/v1beta/models/gemini-2.5-flash:generateContent"
VERTEX = "/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-flash:generateContent"
KEY = {"x-goog-api-key": "AIza-1"}
USER = {"role": "user", "parts": [{"text": "hello world"}]}


async def post(path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=fake.create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return await client.post(path, content=content, headers=KEY if headers is None else headers)


def test_registered_for_both_names() -> None:
    assert FAKES["gemini"] is fake.create_app and FAKES["vertex"] is fake.create_app


@pytest.mark.asyncio
async def test_generate_content_shape() -> None:
    reply = await post(STUDIO, {"contents": [USER], "generationConfig": {"maxOutputTokens": 4}})
    assert reply.status_code == 200
    body = reply.json()
    candidate = body["candidates"][0]
    assert candidate["content"] == {"parts": [{"text": "Mock response to: hello"}],
                                    "role": "model"}
    assert candidate["finishReason"] == "MAX_TOKENS"
    assert body["usageMetadata"]["promptTokenCount"] == 5
    assert body["usageMetadata"]["candidatesTokenCount"] == 4
    assert body["modelVersion"] == "gemini-2.5-flash" and body["responseId"]
    assert reply.headers["x-mock-saw-auth"] == "AIza-1"
    by_query = await post(STUDIO + "?key=AIza-2", {"contents": [USER]}, {})
    assert by_query.headers["x-mock-saw-auth"] == "AIza-2"


@pytest.mark.asyncio
async def test_stream_is_sse_with_crlf_and_json_array_without_alt() -> None:
    path = STUDIO.replace("generateContent", "streamGenerateContent")
    sse = await post(path + "?alt=sse", {"contents": [USER]}, {**KEY, "x-mock-chunks": "2"})
    assert sse.headers["content-type"] == "text/event-stream"
    events = sse.content.split(b"\r\n\r\n")
    assert events[-1] == b"" and all(e.startswith(b"data: ") for e in events[:-1])
    responses = [orjson.loads(e[6:]) for e in events[:-1]]
    assert len(responses) == 2
    assert "finishReason" not in responses[0]["candidates"][0]
    assert responses[-1]["candidates"][0]["finishReason"] == "STOP"
    array = await post(path, {"contents": [USER]})
    assert isinstance(array.json(), list)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{oops", "Invalid JSON payload"),
        ({"contents": []}, "contents is not specified"),
        ({"contents": [USER], "temperature": 1}, 'Unknown name "temperature"'),
        ({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}, "valid role"),
        ({"contents": [{"role": "user", "parts": []}]}, "must not be empty"),
        ({"contents": [{"role": "user", "parts": [{}]}]}, "oneof field 'data'"),
        ({"contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png",
                                                                   "data": "@@"}}]}]},
         "Base64 decoding failed"),
        ({"contents": [{"role": "model", "parts": [{"functionCall": {"name": "f"}}]}]},
         "function call turn comes immediately after"),
        ({"contents": [USER, {"role": "model", "parts": [{"functionCall": {"name": "f"}},
                                                         {"functionCall": {"name": "f"}}]},
                       {"role": "user", "parts": [{"functionResponse": {
                           "name": "f", "response": {}}}]}]},
         "number of function response parts"),
        ({"contents": [USER], "tools": [{"functionDeclarations": [{
            "name": "f", "parameters": {"type": "object", "properties": {"a": {
                "type": "string"}}, "additionalProperties": False}}]}]},
         'Unknown name "additionalProperties"'),
        ({"contents": [USER], "tools": [{"functionDeclarations": [{
            "name": "f", "parameters": {"type": "OBJECT"}}]}]}, "non-empty for OBJECT"),
        ({"contents": [USER], "toolConfig": {"functionCallingConfig": {
            "mode": "AUTO", "allowedFunctionNames": ["f"]}}}, "only allowed when mode is ANY"),
        ({"contents": [USER], "generationConfig": {"candidateCount": 9}}, "candidate_count"),
        ({"contents": [USER], "generationConfig": {"responseSchema": {"type": "STRING"}}},
         "response_mime_type must be application/json"),
        ({"contents": [{"role": "user", "parts": [{"fileData": {
            "mimeType": "image/png", "fileUri": "https://example.com/a.png"}}]}]},
         "unsupported file uri"),
    ],
)
async def test_validation_errors(body: Any, needle: str) -> None:
    reply = await post(STUDIO, body)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert needle in error["message"]


@pytest.mark.asyncio
async def test_vertex_accepts_https_file_uris_and_needs_bearer() -> None:
    part = {"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/a.png"}}
    body = {"contents": [{"role": "user", "parts": [part]}]}
    ok = await post(VERTEX, body, {"authorization": "Bearer ya29.x"})
    assert ok.status_code == 200 and ok.headers["x-mock-saw-auth"] == "Bearer ya29.x"
    missing = await post(VERTEX, body, KEY)  # an AI Studio key is no Vertex credential
    assert missing.status_code == 401
    assert missing.json()["error"]["status"] == "UNAUTHENTICATED"
    studio = await post(STUDIO, {"contents": [USER]}, {})
    assert studio.status_code == 403
    assert studio.json()["error"]["status"] == "PERMISSION_DENIED"


@pytest.mark.asyncio
async def test_tool_rule_and_knobs() -> None:
    tools = [{"functionDeclarations": [
        {"name": "get_time", "parameters": {"type": "OBJECT", "properties": {
            "zone": {"type": "STRING"}, "hours": {"type": "INTEGER"}}}},
        {"name": "other"}]}]
    asked = await post(STUDIO, {"contents": [{"role": "user", "parts": [
        {"text": "call get_time please"}]}], "tools": tools})
    part = asked.json()["candidates"][0]["content"]["parts"][0]
    assert part == {"functionCall": {"name": "get_time", "args": {"zone": "mock", "hours": 1}}}
    unasked = await post(STUDIO, {"contents": [USER], "tools": tools})
    assert "text" in unasked.json()["candidates"][0]["content"]["parts"][0]
    forced = await post(STUDIO, {"contents": [USER], "tools": tools, "toolConfig": {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["other"]}}})
    assert forced.json()["candidates"][0]["content"]["parts"][0]["functionCall"]["name"] == (
        "other")
    safety = await post(STUDIO, {"contents": [USER]}, {**KEY, "x-mock-finish-reason": "SAFETY"})
    assert safety.json()["candidates"][0] == {"index": 0, "finishReason": "SAFETY"}
    failed = await post(STUDIO, {"contents": [USER]}, {**KEY, "x-mock-error-status": "503"})
    assert failed.status_code == 503
    assert failed.json()["error"]["status"] == "UNAVAILABLE"
    bad_knob = await post(STUDIO, {"contents": [USER]}, {**KEY, "x-mock-error-rate": "x"})
    assert bad_knob.status_code == 400


@pytest.mark.asyncio
async def test_embedding_methods() -> None:
    base = "/v1beta/models/gemini-embedding-001"
    one = await post(base + ":embedContent", {"content": {"parts": [{"text": "a b"}]},
                                              "outputDimensionality": 3})
    assert len(one.json()["embedding"]["values"]) == 3
    wrong_model = await post(base + ":batchEmbedContents", {"requests": [
        {"model": "models/other", "content": {"parts": [{"text": "a"}]}}]})
    assert wrong_model.status_code == 400
    vertex = "/v1/projects/p/locations/l/publishers/google/models/text-embedding-005:predict"
    predicted = await post(vertex, {"instances": [{"content": "a b c"}]},
                           {"authorization": "Bearer t"})
    prediction = predicted.json()["predictions"][0]["embeddings"]
    assert prediction["statistics"] == {"truncated": False, "token_count": 3}
    assert len(prediction["values"]) == fake.DEFAULT_DIMENSIONS
