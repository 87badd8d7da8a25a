"""Fake Google Gemini: AI Studio (`/v1beta/models/{m}:...`, `x-goog-api-key` or `?key=`) and
Vertex AI (`/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:...`, OAuth bearer).

Methods: `generateContent`, `streamGenerateContent` (`?alt=sse`: SSE events separated by
CRLF pairs as Google sends them; without it a JSON array), AI Studio `embedContent` /
`batchEmbedContents`, Vertex `predict` (text-embedding models). Answers follow
`fake_providers.script`. Own knobs besides `mock_provider.knobs`: `x-mock-finish-reason`
(e.g. `SAFETY`: the candidate comes back with that reason and no content),
`x-mock-cached-tokens`, `x-mock-reasoning-tokens` (reported in `usageMetadata`).
`POST /token` is a fake OAuth token endpoint for Vertex service-account keys
(`fake_providers.google_oauth`).
Embedding vectors have `outputDimensionality` (default 8) values.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson

from fake_providers import script
from fake_providers.asgi import ASGIApp, FakeRequest, Reply, injected, serve
from fake_providers.gemini_validation import (
    GeminiRequestError,
    validate_embed_content,
    validate_generate_request,
)
from fake_providers.google_oauth import token_reply
from mock_provider.responses import content_deltas, embedding_vector

JSONObject = dict[str, Any]
AI_STUDIO_PATH = re.compile(
    r"^/v1(?:beta)?/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent"
    r"|embedContent|batchEmbedContents)$"
)
VERTEX_PATH = re.compile(
    r"^/v1(?:beta1)?/projects/[^/]+/locations/[^/]+/publishers/google/models/(?P<model>[^/:]+)"
    r":(?P<method>generateContent|streamGenerateContent|predict)$"
)
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 408: "DEADLINE_EXCEEDED", 409: "ABORTED",
                429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL",
                501: "NOT_IMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
NO_CONTENT_REASONS = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"}
DEFAULT_DIMENSIONS = 8
MISSING_KEY = ("Method doesn't allow unregistered callers (callers without established "
               "identity). Please use API Key or other form of API consumer identity to call "
               "this API.")
MISSING_TOKEN = ("Request is missing required authentication credential. Expected OAuth 2 "
                 "access token, login cookie or other valid authentication credential.")


def error_reply(status: int, message: str, saw: str = "none") -> Reply:
    name = STATUS_NAMES.get(status, "UNKNOWN")
    payload = {"error": {"code": status, "message": message, "status": name}}
    return Reply(status, payload, headers=(("x-mock-saw-auth", saw),))


def create_app() -> ASGIApp:
    return serve(handle, lambda exc: error_reply(400, str(exc)))


def handle(request: FakeRequest) -> Reply:
    if request.path == "/healthz":
        return Reply(200, "ok")
    if request.path == "/token" and request.method == "POST":
        return token_reply(request)
    vertex = VERTEX_PATH.match(request.path)
    match = vertex or AI_STUDIO_PATH.match(request.path)
    if match is None or request.method != "POST":
        return error_reply(404, f"Method not found: {request.method} {request.path}")
    saw = _auth(request, vertex=bool(vertex))
    if saw == "none":
        return error_reply(401, MISSING_TOKEN) if vertex else error_reply(403, MISSING_KEY)
    if injected(request.knobs):
        status = request.knobs.error_status
        return error_reply(status, f"Injected by the fake (status {status}).", saw)
    try:
        reply = _dispatch(request, match["model"], match["method"], bool(vertex))
    except GeminiRequestError as exc:
        return error_reply(exc.status, exc.message, saw)
    return Reply(reply.status, reply.payload, reply.events,
                 (*reply.headers, ("x-mock-saw-auth", saw)))


def _auth(request: FakeRequest, *, vertex: bool) -> str:
    if vertex:
        value = request.headers.get("authorization", "")
        return value if value.startswith("Bearer ") else "none"
    return request.headers.get("x-goog-api-key") or request.query.get("key") or "none"


def _dispatch(request: FakeRequest, model: str, method: str, vertex: bool) -> Reply:
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise GeminiRequestError("Invalid JSON payload received. Unexpected token.") from None
    if method == "predict":
        return Reply(200, predict(body))
    if method == "embedContent":
        text = validate_embed_content(body, "")
        return Reply(200, {"embedding": {"values": _vector(text, body)}})
    if method == "batchEmbedContents":
        return Reply(200, batch_embed(body, model))
    generate = validate_generate_request(body, vertex=vertex)
    responses = generate_responses(generate, model, request, stream=method != "generateContent")
    if method == "generateContent":
        return Reply(200, responses[0])
    if request.query.get("alt") != "sse":
        return Reply(200, responses)
    return Reply(200, events=tuple(b"data: " + orjson.dumps(r) + b"\r\n\r\n" for r in responses))


# -- generateContent -------------------------------------------------------------------------


def prompt_of(contents: list[JSONObject]) -> str:
    last = contents[-1]["parts"]
    texts = [part["text"] for part in last if isinstance(part.get("text"), str)]
    if texts:
        return " ".join(texts)
    responses = [part["functionResponse"]["response"] for part in last
                 if "functionResponse" in part]
    return " ".join(orjson.dumps(response).decode() for response in responses)


def prompt_tokens(request: JSONObject) -> int:
    turns = [*request["contents"], *([request["systemInstruction"]]
                                     if "systemInstruction" in request else [])]
    return sum(
        script.TOKENS_PER_TURN + sum(script.count_words(p.get("text", "")) for p in t["parts"])
        for t in turns
    )


def tool_call_part(request: JSONObject) -> JSONObject | None:
    last = request["contents"][-1]["parts"]
    if any("functionResponse" in part for part in last):
        return None
    calling = request.get("toolConfig", {}).get("functionCallingConfig", {})
    mode = calling.get("mode", "AUTO")
    tools = [
        script.ToolSpec(d["name"], d.get("parameters"))
        for tool in request.get("tools", []) for d in tool.get("functionDeclarations", [])
    ]
    if not tools or mode == "NONE":
        return None
    tool = script.pick_tool(tools, prompt_of(request["contents"]), required=mode == "ANY",
                            allowed=calling.get("allowedFunctionNames", ()))
    if tool is None:
        return None
    return {"functionCall": {"name": tool.name, "args": script.sample_value(tool.parameters)
                             if tool.parameters else {}}}


def generate_responses(
    request: JSONObject, model: str, fake: FakeRequest, *, stream: bool
) -> list[JSONObject]:
    """The answer as one response (whole) or as the sequence of streamed responses."""
    config = request["generationConfig"]
    answer = script.text_answer(prompt_of(request["contents"]), config.get("maxOutputTokens"))
    call = tool_call_part(request)
    finish = fake.headers.get("x-mock-finish-reason") or (
        "MAX_TOKENS" if answer.truncated and call is None else "STOP")
    if config.get("responseMimeType") == "application/json" and call is None:
        pieces = [script.json_text(answer, config.get("responseSchema"))]
    else:
        pieces = content_deltas(answer.words, fake.knobs.chunks) if stream else [answer.text]
    parts = [[call]] if call is not None else [[{"text": piece}] for piece in pieces]
    if finish in NO_CONTENT_REASONS:
        parts = [[]]
    base = {"modelVersion": model, "responseId": _response_id(fake.body)}
    count = config.get("candidateCount", 1)
    usage = usage_metadata(prompt_tokens(request), answer, call is None, count, fake)
    responses = []
    for position, chunk_parts in enumerate(parts):
        last = position == len(parts) - 1
        candidates = [_candidate(chunk_parts, i, finish if last else None) for i in range(count)]
        partial = {"promptTokenCount": usage["promptTokenCount"],
                   "totalTokenCount": usage["promptTokenCount"]}
        responses.append({"candidates": candidates, "usageMetadata": usage if last else partial,
                          **base})
    return responses


def _candidate(parts: list[JSONObject], index: int, finish: str | None) -> JSONObject:
    candidate: JSONObject = {"index": index}
    if parts:
        candidate["content"] = {"parts": parts, "role": "model"}
    if finish is not None:
        candidate["finishReason"] = finish
    return candidate


def usage_metadata(
    prompt: int, answer: script.TextAnswer, text: bool, count: int, fake: FakeRequest
) -> JSONObject:
    candidates = (len(answer.words) if text else 3) * count
    thoughts = fake.header_int("x-mock-reasoning-tokens")
    cached = min(fake.header_int("x-mock-cached-tokens"), prompt)
    usage: JSONObject = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    if cached:
        usage["cachedContentTokenCount"] = cached
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def _response_id(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=9).hexdigest()


# -- embeddings ------------------------------------------------------------------------------


def _vector(text: str, request: JSONObject) -> list[float]:
    dimensions = request.get("outputDimensionality") or DEFAULT_DIMENSIONS
    return embedding_vector(text, int(dimensions))


def batch_embed(body: Any, model: str) -> JSONObject:
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise GeminiRequestError("* BatchEmbedContentsRequest.requests: must not be empty.\n")
    embeddings = []
    for i, request in enumerate(requests):
        text = validate_embed_content(request, f"requests[{i}]")
        if request.get("model") != f"models/{model}":
            raise GeminiRequestError(
                f"Model name in requests[{i}] ({request.get('model')}) must be models/{model}."
            )
        embeddings.append({"values": _vector(text, request)})
    return {"embeddings": embeddings}


def predict(body: Any) -> JSONObject:
    instances = body.get("instances") if isinstance(body, dict) else None
    if not isinstance(instances, list) or not instances:
        raise GeminiRequestError("instances must be a non-empty list.")
    parameters = body.get("parameters") or {}
    predictions, characters = [], 0
    for instance in instances:
        text = instance.get("content") if isinstance(instance, dict) else None
        if not isinstance(text, str) or not text:
            raise GeminiRequestError("Each instance needs a non-empty 'content' string.")
        characters += len(text)
        statistics = {"truncated": False, "token_count": script.count_words(text)}
        predictions.append({"embeddings": {"statistics": statistics,
                                           "values": _vector(text, parameters)}})
    return {"predictions": predictions, "metadata": {"billableCharacterCount": characters}}

