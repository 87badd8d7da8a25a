"""Gemini translator (AI Studio and Vertex): requests, responses, streams, errors, round trips."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from translator_harness import assert_split_invariant, call_fake, feed, fixture, sse_payloads

from ext_proc.translators import base
from ext_proc.translators.base import Target, TranslationError
from ext_proc.translators.gemini import DROPPED_PARAMS, GeminiTranslator
from ext_proc.translators.gemini_response import GeminiStreamResponse
from ext_proc.translators.registry import translator_for
from fake_providers import gemini as gemini_fake

STUDIO = GeminiTranslator("gemini")
VERTEX = GeminiTranslator("vertex")
STUDIO_TARGET = Target("gemini", "gemini-2.5-flash", "/proxy")
VERTEX_TARGET = Target("vertex", "gemini-2.5-flash", "", {"project": "p1", "location": "eu-w4"})
PNG = base64.b64encode(b"\x89PNG fake").decode()
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": ["string", "null"],
                                                                "enum": ["c", "f"]}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "alias", "messages": [{"role": "user", "content": "hello there"}], **extra}


def gemini_body(body: dict[str, Any], translator: GeminiTranslator = STUDIO) -> Any:
    target = STUDIO_TARGET if translator is STUDIO else VERTEX_TARGET
    return orjson.loads(translator.request("chat.completions", body, target).body)


# -- requests -------------------------------------------------------------------------------


def test_registry_serves_both_names() -> None:
    assert translator_for("gemini").name == "gemini"
    assert translator_for("vertex").name == "vertex"
    assert base.N_CHOICES in translator_for("vertex").capabilities


def test_paths_for_both_providers() -> None:
    studio = STUDIO.request("chat.completions", chat(), STUDIO_TARGET)
    assert studio.path == "/proxy/v1beta/models/gemini-2.5-flash:generateContent"
    assert ("content-type", "application/json") in studio.headers
    stream = VERTEX.request("chat.completions", chat(stream=True), VERTEX_TARGET)
    assert stream.path == (
        "/v1/projects/p1/locations/eu-w4/publishers/google/models/gemini-2.5-flash"
        ":streamGenerateContent?alt=sse"
    )
    own_model = STUDIO.request("chat.completions", chat(model="models/gemini-x"),
                               Target("gemini", ""))
    assert own_model.path == "/v1beta/models/gemini-x:generateContent"
    default_location = VERTEX.request("chat.completions", chat(),
                                      Target("vertex", "m", "", {"project": "p"}))
    assert "/locations/us-central1/" in default_location.path
    with pytest.raises(TranslationError) as missing:
        VERTEX.request("chat.completions", chat(), Target("vertex", "m"))
    assert missing.value.status == 500


def test_messages_roles_and_generation_config() -> None:
    body = chat(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "No jokes."}]},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "weather?"},
        ],
        max_completion_tokens=50, max_tokens=10, temperature=0.2, top_p=0.9, stop="END", n=2,
        seed=7, presence_penalty=0.1, frequency_penalty=0.2, user="u1",
        stream_options={"include_usage": True},
    )
    out = gemini_body(body)
    assert out["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "No jokes."}]}
    assert [c["role"] for c in out["contents"]] == ["user", "model", "user"]
    assert out["generationConfig"] == {
        "temperature": 0.2, "topP": 0.9, "candidateCount": 2, "seed": 7,
        "presencePenalty": 0.1, "frequencyPenalty": 0.2, "maxOutputTokens": 50,
        "stopSequences": ["END"],
    }
    assert "user" not in out and "user" in DROPPED_PARAMS


def test_tool_round_trip_request() -> None:
    body = chat(
        messages=[
            {"role": "user", "content": "weather in Paris and Rome"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function",
                 "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
                {"id": "c2", "type": "function",
                 "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'}}]},
            {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 20}'},
            {"role": "tool", "tool_call_id": "c2", "content": "sunny"},
        ],
        tools=[WEATHER_TOOL], tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    out = gemini_body(body)
    assert out["contents"][1]["parts"] == [
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
        {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
    ]
    assert out["contents"][2] == {"role": "user", "parts": [
        {"functionResponse": {"name": "get_weather", "response": {"temp": 20}}},
        {"functionResponse": {"name": "get_weather", "response": {"content": "sunny"}}},
    ]}
    declaration = out["tools"][0]["functionDeclarations"][0]
    assert declaration["parameters"] == {
        "type": "OBJECT",
        "properties": {"city": {"type": "STRING"},
                       "unit": {"type": "STRING", "nullable": True, "enum": ["c", "f"]}},
        "required": ["city"],
    }
    assert out["toolConfig"] == {"functionCallingConfig": {
        "mode": "ANY", "allowedFunctionNames": ["get_weather"]}}
    for choice, mode in (("auto", "AUTO"), ("none", "NONE"), ("required", "ANY")):
        config = gemini_body(chat(tools=[WEATHER_TOOL], tool_choice=choice))["toolConfig"]
        assert config == {"functionCallingConfig": {"mode": mode}}


def test_images() -> None:
    content = [{"type": "text", "text": "what is this"},
               {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
               {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]
    body = chat(messages=[{"role": "user", "content": content}])
    parts = gemini_body(body, VERTEX)["contents"][0]["parts"]
    assert parts[1] == {"inlineData": {"mimeType": "image/png", "data": PNG}}
    assert parts[2] == {"fileData": {"mimeType": "image/jpeg",
                                     "fileUri": "https://example.com/cat.jpg"}}
    with pytest.raises(TranslationError) as studio:
        gemini_body(body, STUDIO)
    assert studio.value.param == "messages[0].content[2].image_url"
    bad = chat(messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}]}])
    with pytest.raises(TranslationError) as invalid:
        gemini_body(bad)
    assert invalid.value.param == "messages[0].content[0].image_url"


def test_response_format() -> None:
    assert gemini_body(chat(response_format={"type": "json_object"}))["generationConfig"] == {
        "responseMimeType": "application/json"}
    schema = {"type": "object", "properties": {"n": {"type": "integer"},
                                               "tag": {"const": "x"}}, "required": ["n"]}
    fmt = {"type": "json_schema", "json_schema": {"name": "s", "schema": schema, "strict": True}}
    config = gemini_body(chat(response_format=fmt))["generationConfig"]
    assert config["responseSchema"] == {
        "type": "OBJECT", "properties": {"n": {"type": "INTEGER"}, "tag": {"enum": ["x"]}},
        "required": ["n"]}
    bad = {**fmt, "json_schema": {"name": "s", "schema": {
        "type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}}}}
    with pytest.raises(TranslationError) as rejected:
        gemini_body(chat(response_format=bad))
    assert rejected.value.param == "response_format.json_schema.schema.properties.a.oneOf"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"logit_bias": {"1": 2}}, "logit_bias"),
        ({"logprobs": True}, "logprobs"),
        ({"modalities": ["audio"]}, "modalities"),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]},
         "messages[0].content[0]"),
        ({"messages": [{"role": "user", "content": "x"},
                       {"role": "tool", "tool_call_id": "nope", "content": "x"}]},
         "messages[1].tool_call_id"),
    ],
)
def test_rejected_parameters(extra: dict[str, Any], param: str) -> None:
    with pytest.raises(TranslationError) as caught:
        gemini_body(chat(**extra))
    assert caught.value.param == param
    assert caught.value.status == 400


def test_dropped_parameters_are_documented() -> None:
    body = chat(**{name: "x" for name in DROPPED_PARAMS})
    assert set(gemini_body(body)) == {"contents"}


# -- responses --------------------------------------------------------------------------------


def test_completion_with_tool_call_and_usage() -> None:
    data = fixture("gemini/generate_content_tool_call.json")
    translator = STUDIO.response("chat.completions", 200, False, "alias")
    out = orjson.loads(translator.body(orjson.dumps(data["gemini"]), True))
    completion = ChatCompletion.model_validate(out)
    assert completion.model == "alias"
    assert completion.id == "chatcmpl-resp-abc"
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Checking the weather."
    call = choice.message.tool_calls[0]
    assert (call.function.name, orjson.loads(call.function.arguments)) == (
        "get_weather", {"city": "Paris", "unit": "celsius"})
    assert out["usage"] == data["openai_usage"]
    assert translator.usage == base_usage(120, 70, 190, 100, 50)
    assert translator.headers() == (("content-type", "application/json"),)


def base_usage(prompt: int, completion: int, total: int, cached: int, reasoning: int) -> Any:
    from ext_proc.usage import Usage

    return Usage(prompt, completion, total, cached, reasoning)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [("STOP", "stop"), ("MAX_TOKENS", "length"), ("SAFETY", "content_filter"),
     ("RECITATION", "content_filter"), ("PROHIBITED_CONTENT", "content_filter"),
     ("BLOCKLIST", "content_filter"), ("SPII", "content_filter"), ("OTHER", "stop"),
     ("MALFORMED_FUNCTION_CALL", "stop")],
)
def test_every_finish_reason(reason: str, expected: str) -> None:
    response = {"candidates": [{"content": {"parts": [{"text": "x"}], "role": "model"},
                                "finishReason": reason, "index": 0}]}
    translator = STUDIO.response("chat.completions", 200, False, "m")
    out = orjson.loads(translator.body(orjson.dumps(response), True))
    assert out["choices"][0]["finish_reason"] == expected
    stream = STUDIO.response("chat.completions", 200, True, "m")
    chunks = sse_payloads(feed(stream, [b"data: " + orjson.dumps(response) + b"\r\n\r\n"]))
    assert [c["choices"][0]["finish_reason"] for c in chunks[:-1] if c["choices"]][-1] == expected


def test_blocked_prompt_is_content_filter() -> None:
    response = {"promptFeedback": {"blockReason": "SAFETY"},
                "usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 4}}
    translator = STUDIO.response("chat.completions", 200, False, "m")
    out = orjson.loads(translator.body(orjson.dumps(response), True))
    assert out["choices"][0]["finish_reason"] == "content_filter"
    assert out["usage"]["prompt_tokens"] == 4


def test_stream_text_then_tool_call() -> None:
    data = fixture("gemini/stream_text_and_tool.json")
    raw = data["sse"].encode()
    whole = assert_split_invariant(
        lambda: GeminiStreamResponse("alias", clock=lambda: 1.0), raw)
    payloads = sse_payloads(whole)
    assert payloads[-1] == "[DONE]"
    chunks = [ChatCompletionChunk.model_validate(p) for p in payloads[:-1]]
    deltas = [p["choices"][0]["delta"] for p in payloads[:-2]]
    for delta in deltas:
        for call in delta.get("tool_calls", []):
            assert call.pop("id").startswith("call_")
    assert deltas == data["expected_deltas"]
    assert payloads[-3]["choices"][0]["finish_reason"] == data["expected_finish"]
    assert payloads[-2]["choices"] == []
    assert payloads[-2]["usage"] == data["expected_usage"]
    assert all(c.id == "chatcmpl-r1" and c.model == "alias" for c in chunks)


def test_stream_mid_stream_error_event() -> None:
    event = b'data: {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}\n\n'
    payloads = sse_payloads(feed(GeminiStreamResponse("m"), [event]))
    assert payloads[0] == {"error": {"message": "overloaded", "type": "server_error",
                                     "param": None, "code": "unavailable"}}


def test_errors() -> None:
    for case in fixture("gemini/errors.json")["cases"]:
        for stream in (False, True):
            translator = VERTEX.response("chat.completions", case["status"], stream, "m")
            raw = orjson.dumps(case["body"])
            out = orjson.loads(feed(translator, [raw[:7], raw[7:]]))
            assert out["error"] == {"message": case["body"]["error"]["message"],
                                    "type": case["type"], "param": None, "code": case["code"]}
            assert translator.status(case["status"]) == case["client_status"]
            assert translator.headers() == (("content-type", "application/json"),)
    proxy = STUDIO.response("chat.completions", 502, False, "m")
    out = orjson.loads(proxy.body(b"<html>Bad Gateway</html>", True))
    assert out["error"]["message"] == "<html>Bad Gateway</html>"


# -- embeddings -------------------------------------------------------------------------------


def test_embeddings_requests_and_responses() -> None:
    data = fixture("gemini/vertex_predict_embeddings.json")
    body = {"model": "e", "input": ["hello world", "bye"], "dimensions": 3,
            "encoding_format": "base64"}
    vertex = VERTEX.request("embeddings", body, Target("vertex", "text-embedding-005", "",
                                                       {"project": "p"}))
    assert vertex.path.endswith("/models/text-embedding-005:predict")
    assert orjson.loads(vertex.body) == data["request"]
    translator = VERTEX.response("embeddings", 200, False, "e")
    out = orjson.loads(translator.body(orjson.dumps(data["response"]), True))
    assert [item["embedding"] for item in out["data"]] == [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]
    assert out["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    single = STUDIO.request("embeddings", {"model": "e", "input": "hi"}, Target("gemini", "g"))
    assert single.path == "/v1beta/models/g:embedContent"
    assert orjson.loads(single.body) == {"content": {"parts": [{"text": "hi"}]}}
    batch = STUDIO.request("embeddings", {"model": "e", "input": ["a", "b"]}, Target("gemini", "g"))
    assert batch.path == "/v1beta/models/g:batchEmbedContents"
    assert [r["model"] for r in orjson.loads(batch.body)["requests"]] == ["models/g"] * 2
    with pytest.raises(TranslationError) as tokens:
        STUDIO.request("embeddings", {"model": "e", "input": [[1, 2]]}, Target("gemini", "g"))
    assert tokens.value.param == "input[0]"


# -- round trips through the fake ---------------------------------------------------------------

AUTH = {"gemini": {"x-goog-api-key": "AIza-test"}, "vertex": {"authorization": "Bearer ya29"}}


@pytest.mark.asyncio
@pytest.mark.parametrize("translator", [STUDIO, VERTEX], ids=["gemini", "vertex"])
async def test_round_trip_chat_and_stream(translator: GeminiTranslator) -> None:
    target = STUDIO_TARGET if translator is STUDIO else VERTEX_TARGET
    target = Target(target.provider, target.upstream_model, "", target.options)
    app = gemini_fake.create_app()
    body = chat(messages=[{"role": "system", "content": "Be brief."},
                          {"role": "user", "content": "one two three"}], n=2)
    reply = await call_fake(app, translator.request("chat.completions", body, target),
                            {**AUTH[translator.name], "x-mock-cached-tokens": "2",
                             "x-mock-reasoning-tokens": "5"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-mock-saw-auth"] == next(iter(AUTH[translator.name].values()))
    response = translator.response("chat.completions", 200, False, "alias")
    completion = ChatCompletion.model_validate_json(response.body(reply.content, True))
    assert [c.message.content for c in completion.choices] == [
        "Mock response to: one two three"] * 2
    assert response.usage == base_usage(11, 12 + 5, 28, 2, 5)  # 2 candidates x 6 words

    stream_body = {**body, "stream": True, "n": 1}
    reply = await call_fake(app, translator.request("chat.completions", stream_body, target),
                            {**AUTH[translator.name], "x-mock-chunks": "3"})
    assert reply.headers["content-type"] == "text/event-stream"
    streamed = translator.response("chat.completions", 200, True, "alias")
    payloads = sse_payloads(assert_split_invariant(
        lambda: translator.response("chat.completions", 200, True, "alias"), reply.content))
    text = "".join(p["choices"][0]["delta"].get("content", "") for p in payloads[:-1]
                   if p["choices"])
    assert text == "Mock response to: one two three"
    assert payloads[-2]["usage"]["completion_tokens"] == 6
    feed(streamed, [reply.content])
    assert streamed.usage is not None and streamed.usage.prompt_tokens == 11


@pytest.mark.asyncio
async def test_round_trip_tools_and_json_schema() -> None:
    app = gemini_fake.create_app()
    target = Target("gemini", "gemini-2.5-flash")
    body = chat(messages=[{"role": "user", "content": "use get_weather for Paris"}],
                tools=[WEATHER_TOOL], stream=True)
    reply = await call_fake(app, STUDIO.request("chat.completions", body, target),
                            AUTH["gemini"])
    payloads = sse_payloads(feed(STUDIO.response("chat.completions", 200, True, "m"),
                                 [reply.content]))
    calls = [p["choices"][0]["delta"]["tool_calls"][0] for p in payloads[:-1]
             if p["choices"] and "tool_calls" in p["choices"][0]["delta"]]
    assert len(calls) == 1 and calls[0]["function"]["name"] == "get_weather"
    assert orjson.loads(calls[0]["function"]["arguments"]) == {"city": "mock", "unit": "c"}
    assert payloads[-3]["choices"][0]["finish_reason"] == "tool_calls"

    follow_up = chat(messages=[
        {"role": "user", "content": "use get_weather for Paris"},
        {"role": "assistant", "tool_calls": [{"id": calls[0]["id"], "type": "function",
                                              "function": calls[0]["function"]}]},
        {"role": "tool", "tool_call_id": calls[0]["id"], "content": '{"temp": 21}'},
    ], tools=[WEATHER_TOOL])
    reply = await call_fake(app, STUDIO.request("chat.completions", follow_up, target),
                            AUTH["gemini"])
    assert reply.status_code == 200, reply.text
    out = orjson.loads(STUDIO.response("chat.completions", 200, False, "m").body(
        reply.content, True))
    assert out["choices"][0]["message"]["content"] == 'Mock response to: {"temp":21}'

    schema = {"type": "object", "properties": {"name": {"type": "string"}},
              "required": ["name"], "additionalProperties": False}
    fmt = chat(response_format={"type": "json_schema",
                                "json_schema": {"name": "x", "schema": schema}})
    reply = await call_fake(app, STUDIO.request("chat.completions", fmt, target), AUTH["gemini"])
    out = orjson.loads(STUDIO.response("chat.completions", 200, False, "m").body(
        reply.content, True))
    assert orjson.loads(out["choices"][0]["message"]["content"]) == {"name": "mock"}


@pytest.mark.asyncio
@pytest.mark.parametrize("translator", [STUDIO, VERTEX], ids=["gemini", "vertex"])
async def test_round_trip_embeddings_and_errors(translator: GeminiTranslator) -> None:
    app = gemini_fake.create_app()
    target = Target(translator.name, "text-embedding-005", "", {"project": "p"})
    for value in ("alpha beta", ["alpha beta", "gamma"]):
        body = {"model": "e", "input": value, "dimensions": 4}
        reply = await call_fake(app, translator.request("embeddings", body, target),
                                AUTH[translator.name])
        assert reply.status_code == 200, reply.text
        response = translator.response("embeddings", 200, False, "e")
        out = orjson.loads(response.body(reply.content, True))
        assert all(len(item["embedding"]) == 4 for item in out["data"])
        assert len(out["data"]) == (1 if isinstance(value, str) else 2)
        if translator is VERTEX:
            assert out["usage"]["prompt_tokens"] == (2 if isinstance(value, str) else 3)
    chat_target = Target(translator.name, "g", "", {"project": "p"})
    reply = await call_fake(app, translator.request("chat.completions", chat(), chat_target),
                            {**AUTH[translator.name], "x-mock-error-status": "429"})
    response = translator.response("chat.completions", reply.status_code, False, "m")
    out = orjson.loads(response.body(reply.content, True))
    assert response.status(reply.status_code) == 429
    assert out["error"]["type"] == "rate_limit_error"
    missing = await call_fake(app, translator.request("chat.completions", chat(), chat_target))
    assert missing.status_code == (401 if translator is VERTEX else 403)
    assert missing.headers["x-mock-saw-auth"] == "none"
