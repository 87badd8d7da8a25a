"""One parameterised fake for the OpenAI-compatible providers (see `openai_compat_flavors`).

Routes, under the flavor's prefix: `POST .../chat/completions`, `POST .../embeddings` (where
the provider has them), OpenRouter's `GET /api/v1/models`; Azure's are
`/openai/deployments/{deployment}/...?api-version=...`. Answers follow
`fake_providers.script`; the reply's `model` is the request's (Azure: the deployment).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson

from fake_providers import script
from fake_providers.asgi import ASGIApp, FakeRequest, Reply, injected, serve
from fake_providers.openai_compat_flavors import (
    FLAVORS,
    MISTRAL_EMBEDDING_FIELDS,
    Flavor,
    error_payload,
    openrouter_models,
)
from mock_provider.responses import (
    content_deltas,
    count_prompt_tokens,
    embeddings_response,
    message_text,
)

JSONObject = dict[str, Any]
ROLES = {"system", "developer", "user", "assistant", "tool"}
CREATED = 1_700_000_000

__all__ = ["FLAVORS", "app_factory", "create_app"]


class RequestError(Exception):
    def __init__(self, status: int, message: Any, param: str | None = None) -> None:
        super().__init__(str(message))
        self.status, self.message, self.param = status, message, param


def app_factory(flavor: str) -> Callable[[], ASGIApp]:
    return lambda: create_app(flavor)


def create_app(flavor_name: str) -> ASGIApp:
    flavor = FLAVORS[flavor_name]

    def knob_error(exc: Exception) -> Reply:
        return Reply(400, error_payload(flavor, 400, str(exc)))

    return serve(lambda request: handle(flavor, request), knob_error)


def handle(flavor: Flavor, request: FakeRequest) -> Reply:
    if request.path == "/healthz":
        return Reply(200, "ok")
    route, model = _route(flavor, request)
    if route is None:
        return Reply(404, error_payload(flavor, 404, "Resource not found", code="404"))
    if route == "models":
        return Reply(200, openrouter_models())
    saw = request.headers.get(flavor.auth_header, "none")
    if saw == "none" or (flavor.auth_header == "authorization" and not saw.startswith("Bearer ")):
        return _with_auth(Reply(401, error_payload(flavor, 401, flavor.missing_auth)), saw)
    if injected(request.knobs):
        status = request.knobs.error_status
        message = f"Injected by the fake (status {status})."
        return _with_auth(Reply(status, error_payload(flavor, status, message)), saw)
    try:
        body = _json_object(request.body)
        reply = chat(flavor, body, model, request) if route == "chat" else embeddings(
            flavor, body, model)
    except RequestError as exc:
        reply = Reply(exc.status, error_payload(flavor, exc.status, exc.message, exc.param))
    return _with_auth(reply, saw)


def _with_auth(reply: Reply, saw: str) -> Reply:
    return Reply(reply.status, reply.payload, reply.events, (("x-mock-saw-auth", saw),))


def _route(flavor: Flavor, request: FakeRequest) -> tuple[str | None, str]:
    path = request.path
    if flavor.name == "openrouter" and path == "/api/v1/models" and request.method == "GET":
        return "models", ""
    if not path.startswith(flavor.prefix + "/") and flavor.name != "azure":
        return None, ""
    if flavor.name == "azure":
        deployment, _, rest = path.removeprefix(flavor.prefix).partition("/")
        if not path.startswith(flavor.prefix) or not request.query.get("api-version"):
            return None, ""
        path = "/" + rest
    else:
        deployment = ""
    if request.method == "POST" and path.endswith("/chat/completions"):
        return "chat", deployment
    if request.method == "POST" and path.endswith("/embeddings") and flavor.embeddings:
        return "embeddings", deployment
    return None, ""


def _json_object(raw: bytes) -> JSONObject:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestError(400, "We could not parse the JSON body of your request.") from None
    if not isinstance(body, dict):
        raise RequestError(400, "The request body must be a JSON object.")
    return body


# -- validation --------------------------------------------------------------------------------


def validate_chat(flavor: Flavor, body: JSONObject, deployment: str) -> None:
    extra = [key for key in body if key not in flavor.chat_fields]
    if extra and flavor.name == "mistral":
        detail = [{"type": "extra_forbidden", "loc": ["body", key],
                   "msg": "Extra inputs are not permitted", "input": body[key]} for key in extra]
        raise RequestError(422, {"detail": detail})
    for key in sorted(flavor.refused):
        if body.get(key) not in (None, False):
            raise RequestError(400, f"`{key}` is not supported", key)
    if (body.get("n") or 1) > flavor.max_n:
        raise RequestError(400, f"'n' : number must be at most {flavor.max_n}", "n")
    if not deployment and not isinstance(body.get("model"), str):
        raise RequestError(400, "you must provide a model parameter", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "'messages' must contain at least one message", "messages")
    for i, message in enumerate(messages):
        _validate_message(message, i, messages)
    for i, tool in enumerate(body.get("tools") or []):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise RequestError(400, "Missing required parameter.", f"tools[{i}].function")


def _validate_message(message: Any, i: int, messages: list[Any]) -> None:
    if not isinstance(message, dict) or message.get("role") not in ROLES:
        raise RequestError(400, f"Invalid value for 'messages[{i}].role'.", f"messages[{i}].role")
    role = message["role"]
    if role == "user" and not isinstance(message.get("content"), str | list):
        raise RequestError(400, "user messages need content.", f"messages[{i}].content")
    if role == "tool":
        call_ids = {
            call.get("id") for earlier in messages[:i] if earlier.get("role") == "assistant"
            for call in earlier.get("tool_calls") or []
        }
        if message.get("tool_call_id") not in call_ids:
            raise RequestError(
                400, "Messages with role 'tool' must be a response to a preceding message "
                "with 'tool_calls'.", f"messages[{i}]",
            )


# -- chat -----------------------------------------------------------------------------------------


def prompt_of(messages: list[JSONObject]) -> str:
    trailing_tools = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        trailing_tools.insert(0, message_text(message.get("content")))
    if trailing_tools:
        return " ".join(trailing_tools)
    return message_text(messages[-1].get("content")) if messages[-1].get("role") == "user" else ""


def pick_call(body: JSONObject) -> JSONObject | None:
    choice = body.get("tool_choice", "auto")
    if not body.get("tools") or choice == "none" or body["messages"][-1].get("role") != "user":
        return None
    tools = [script.ToolSpec(t["function"]["name"], t["function"].get("parameters"))
             for t in body["tools"]]
    allowed = [choice["function"]["name"]] if isinstance(choice, dict) else []
    tool = script.pick_tool(tools, prompt_of(body["messages"]),
                            required=choice in ("required", "any") or bool(allowed),
                            allowed=allowed)
    if tool is None:
        return None
    arguments = orjson.dumps(script.sample_value(tool.parameters) if tool.parameters else {})
    call_id = "call_" + hashlib.blake2b(orjson.dumps(body), digest_size=8).hexdigest()
    return {"id": call_id, "type": "function",
            "function": {"name": tool.name, "arguments": arguments.decode()}}


def chat(flavor: Flavor, body: JSONObject, deployment: str, request: FakeRequest) -> Reply:
    validate_chat(flavor, body, deployment)
    messages = body["messages"]
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    answer = script.text_answer(prompt_of(messages), limit)
    call = pick_call(body)
    kind = (body.get("response_format") or {}).get("type")
    schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema")
    content = script.json_text(answer, schema) if kind in ("json_object", "json_schema") else (
        answer.text)
    finish = "tool_calls" if call else ("length" if answer.truncated else "stop")
    n = body.get("n") or 1
    completion_tokens = (3 if call else script.count_words(content)) * n
    prompt = count_prompt_tokens(messages)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
             "total_tokens": prompt + completion_tokens}
    meta = {"id": "chatcmpl-" + hashlib.blake2b(request.body, digest_size=10).hexdigest(),
            "created": CREATED, "model": deployment or body["model"]}
    if not body.get("stream"):
        message: JSONObject = {"role": "assistant", "content": None if call else content}
        if call:
            message["tool_calls"] = [call]
        choices = [{"index": i, "message": message, "logprobs": None, "finish_reason": finish}
                   for i in range(n)]
        payload = {**meta, "object": "chat.completion", "choices": choices, "usage": usage}
        if flavor.name == "groq":
            payload["x_groq"] = {"id": "req_fake"}
        return Reply(200, payload)
    deltas = _deltas(content, call, answer, request)
    return Reply(200, events=stream_events(flavor, body, meta, deltas, finish, n, usage))


def _deltas(content: str, call: JSONObject | None, answer: script.TextAnswer,
            request: FakeRequest) -> list[JSONObject]:
    if call is not None:
        head = {"index": 0, "id": call["id"], "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""}}
        tail = {"index": 0, "function": {"arguments": call["function"]["arguments"]}}
        return [{"tool_calls": [head]}, {"tool_calls": [tail]}]
    if content != answer.text:  # JSON mode: one piece
        return [{"content": content}]
    return [{"content": piece} for piece in content_deltas(answer.words, request.knobs.chunks)]


def stream_events(flavor: Flavor, body: JSONObject, meta: JSONObject, deltas: list[JSONObject],
                  finish: str, n: int, usage: JSONObject) -> tuple[bytes, ...]:
    def chunk(delta: JSONObject, reason: str | None = None) -> JSONObject:
        choices = [{"index": i, "delta": delta, "logprobs": None, "finish_reason": reason}
                   for i in range(n)]
        return {**meta, "object": "chat.completion.chunk", "choices": choices}

    chunks = [chunk({"role": "assistant", "content": ""}), *map(chunk, deltas),
              chunk({}, finish)]
    include = bool((body.get("stream_options") or {}).get("include_usage"))
    events = [_sse(c) for c in _place_usage(flavor, chunks, usage, meta, include)]
    if flavor.name == "azure":
        events.insert(0, _sse({"choices": [], "created": 0, "id": "", "model": "",
                               "object": "", "prompt_filter_results": [
                                   {"prompt_index": 0, "content_filter_results": {}}]}))
    if flavor.name == "openrouter":
        events.insert(0, b": OPENROUTER PROCESSING\n\n")
    return (*events, b"data: [DONE]\n\n")


def _place_usage(flavor: Flavor, chunks: list[JSONObject], usage: JSONObject, meta: JSONObject,
                 include: bool) -> list[JSONObject]:
    style = flavor.usage_style
    if style == "x_groq":
        chunks[0]["x_groq"] = {"id": "req_fake"}
        chunks[-1]["x_groq"] = {"id": "req_fake", "usage": {**usage, "queue_time": 0.01}}
    elif style == "finish_chunk":
        chunks[-1]["usage"] = usage
        if flavor.name == "cerebras":
            chunks[-1]["time_info"] = {"queue_time": 0.0001, "total_time": 0.01}
    elif style == "always_chunk" or (style == "include_usage" and include):
        extra = {"cost": 0.0001} if flavor.name == "openrouter" else {}
        for c in chunks:
            c["usage"] = None
        chunks.append({**meta, "object": "chat.completion.chunk", "choices": [],
                       "usage": {**usage, **extra}})
    return chunks


def _sse(payload: JSONObject) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


# -- embeddings -------------------------------------------------------------------------------


def embeddings(flavor: Flavor, body: JSONObject, deployment: str) -> Reply:
    dimensions_key = "dimensions"
    if flavor.name == "mistral":
        extra = [key for key in body if key not in MISTRAL_EMBEDDING_FIELDS]
        if extra:
            detail = [{"type": "extra_forbidden", "loc": ["body", key],
                       "msg": "Extra inputs are not permitted"} for key in extra]
            raise RequestError(422, {"detail": detail})
        dimensions_key = "output_dimension"
    raw = body.get("input")
    inputs = [raw] if isinstance(raw, str) else raw
    if not isinstance(inputs, list) or not inputs or not all(
            isinstance(item, str) and item for item in inputs):
        raise RequestError(400, "'input' must be a non-empty string or array of strings", "input")
    payload = embeddings_response(
        model=deployment or str(body.get("model")), inputs=inputs,
        dimensions=body.get(dimensions_key) or 8,
        encoding_format=body.get("encoding_format") or "float",
    )
    return Reply(200, payload)
