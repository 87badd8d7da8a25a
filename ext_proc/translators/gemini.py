"""OpenAI <-> Google Gemini, for two provider names sharing one wire format.

* `gemini`: Google AI Studio, `{base}/v1beta/models/{model}:generateContent` (auth header
  `x-goog-api-key`, injected elsewhere); embeddings `:embedContent` / `:batchEmbedContents`.
* `vertex`: Vertex AI, `{base}/v1/projects/{project}/locations/{location}/publishers/google/
  models/{model}:generateContent` (OAuth bearer, injected elsewhere); embeddings `:predict`.
  Options: `project` (required), `location` (default `us-central1`).

Streams use `:streamGenerateContent?alt=sse`. OpenAI parameters without a Gemini meaning are
dropped when harmless (`DROPPED_PARAMS`) and rejected otherwise (anything not handled here).
"""

from __future__ import annotations

from typing import Any

import orjson

from ext_proc.translators import base
from ext_proc.translators.base import (
    ResponseTranslator,
    Target,
    TranslationError,
    UpstreamRequest,
)
from ext_proc.translators.gemini_embeddings import (
    GeminiEmbeddingsResponse,
    openai_to_gemini_embeddings,
)
from ext_proc.translators.gemini_messages import (
    openai_to_gemini_contents,
    openai_to_gemini_tool_config,
    openai_to_gemini_tools,
)
from ext_proc.translators.gemini_response import (
    GeminiChatResponse,
    GeminiErrorResponse,
    GeminiStreamResponse,
)
from ext_proc.translators.gemini_schema import json_schema_to_gemini

JSONObject = dict[str, Any]
VERTEX = "vertex"
AI_STUDIO = "gemini"
DEFAULT_VERTEX_LOCATION = "us-central1"
JSON_CONTENT_TYPE = (("content-type", "application/json"),)

# Accepted and ignored, with why: the gateway always asks for usage (`stream_options`);
# Gemini may call functions in parallel and cannot be told not to (`parallel_tool_calls`);
# end-user ids, storage and tiers are OpenAI account features (`user`, `store`, `metadata`,
# `service_tier`, `prompt_cache_key`, `safety_identifier`); Gemini picks its own thinking
# budget (`reasoning_effort`).
DROPPED_PARAMS = frozenset(
    {
        "stream_options", "parallel_tool_calls", "user", "store", "metadata", "service_tier",
        "prompt_cache_key", "safety_identifier", "reasoning_effort",
    }
)
# OpenAI name -> generationConfig name, copied as they are.
GENERATION_PARAMS = {
    "temperature": "temperature",
    "top_p": "topP",
    "n": "candidateCount",
    "seed": "seed",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
}
HANDLED_PARAMS = frozenset(
    {
        "model", "messages", "stream", "tools", "tool_choice", "response_format", "max_tokens",
        "max_completion_tokens", "stop", "logprobs", *GENERATION_PARAMS,
    }
)
CAPABILITIES = frozenset(
    {
        base.CHAT, base.CHAT_STREAM, base.EMBEDDINGS, base.TOOLS, base.TOOLS_STREAM,
        base.VISION, base.JSON_MODE, base.JSON_SCHEMA, base.N_CHOICES,
    }
)


class GeminiTranslator:
    """One instance per provider name (`gemini` or `vertex`)."""

    capabilities = CAPABILITIES

    def __init__(self, name: str) -> None:
        if name not in (VERTEX, AI_STUDIO):
            raise ValueError(f"GeminiTranslator serves 'gemini' or 'vertex', not {name!r}")
        self.name = name

    @property
    def vertex(self) -> bool:
        return self.name == VERTEX

    def request(self, endpoint: str, body: dict[str, Any], target: Target) -> UpstreamRequest:
        model = model_id(body, target)
        if endpoint == "chat.completions":
            payload = openai_to_gemini_request(body, vertex=self.vertex)
            method = "streamGenerateContent?alt=sse" if body.get("stream") else "generateContent"
        elif endpoint == "embeddings":
            method, payload = openai_to_gemini_embeddings(body, model, vertex=self.vertex)
        else:
            raise TranslationError(f"{self.name} does not serve {endpoint}.", status=404)
        path = f"{model_path(self.name, model, target)}:{method}"
        return UpstreamRequest(path, orjson.dumps(payload), JSON_CONTENT_TYPE)

    def response(
        self, endpoint: str, upstream_status: int, stream: bool, request_model: str
    ) -> ResponseTranslator:
        if not 200 <= upstream_status < 300:
            return GeminiErrorResponse()
        if endpoint == "embeddings":
            return GeminiEmbeddingsResponse(request_model)
        if stream:
            return GeminiStreamResponse(request_model)
        return GeminiChatResponse(request_model)


def model_id(body: dict[str, Any], target: Target) -> str:
    model = target.upstream_model or body.get("model")
    if not isinstance(model, str) or not model:
        raise TranslationError("model is required.", param="model")
    return model.removeprefix("models/")


def model_path(provider: str, model: str, target: Target) -> str:
    if provider == AI_STUDIO:
        return f"{target.base_path}/v1beta/models/{model}"
    project = target.options.get("project")
    if not project:
        raise TranslationError("The vertex deployment has no 'project' option.", status=500)
    location = target.options.get("location") or DEFAULT_VERTEX_LOCATION
    return (
        f"{target.base_path}/v1/projects/{project}/locations/{location}"
        f"/publishers/google/models/{model}"
    )


def openai_to_gemini_request(body: dict[str, Any], *, vertex: bool) -> JSONObject:
    _check_params(body)
    contents, system = openai_to_gemini_contents(body.get("messages"), vertex=vertex)
    request: JSONObject = {"contents": contents}
    if system is not None:
        request["systemInstruction"] = system
    if body.get("tools"):
        request["tools"] = openai_to_gemini_tools(body["tools"])
        if body.get("tool_choice") is not None:
            request["toolConfig"] = openai_to_gemini_tool_config(body["tool_choice"])
    elif body.get("tool_choice") not in (None, "none", "auto"):
        raise TranslationError("tool_choice needs tools.", param="tool_choice")
    config = openai_to_generation_config(body)
    if config:
        request["generationConfig"] = config
    return request


def _check_params(body: dict[str, Any]) -> None:
    for key, value in body.items():
        if key in HANDLED_PARAMS or key in DROPPED_PARAMS or value is None:
            continue
        raise TranslationError(f"Parameter '{key}' is not supported by Gemini.", param=key)
    if body.get("logprobs"):
        raise TranslationError("logprobs are not supported by Gemini.", param="logprobs")


def openai_to_generation_config(body: dict[str, Any]) -> JSONObject:
    config: JSONObject = {
        gemini: body[name] for name, gemini in GENERATION_PARAMS.items()
        if body.get(name) is not None
    }
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens is not None:
        config["maxOutputTokens"] = max_tokens
    stop = body.get("stop")
    if stop:
        config["stopSequences"] = [stop] if isinstance(stop, str) else stop
    if body.get("response_format") is not None:
        config.update(response_format_to_gemini(body["response_format"]))
    return config


def response_format_to_gemini(response_format: Any) -> JSONObject:
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"responseMimeType": "application/json"}
    json_schema = response_format.get("json_schema") if kind == "json_schema" else None
    if isinstance(json_schema, dict) and isinstance(json_schema.get("schema"), dict):
        path = "response_format.json_schema.schema"
        schema = json_schema_to_gemini(json_schema["schema"], path)
        return {"responseMimeType": "application/json", "responseSchema": schema}
    raise TranslationError("Unsupported response_format.", param="response_format")
