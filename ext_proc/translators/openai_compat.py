"""Providers that speak OpenAI's chat API, each with small, listed differences.

One translator class; a `CompatProfile` per provider holds every difference as data:

* `openai`: `{base}/chat/completions`, `{base}/embeddings`; passthrough.
* `azure`: `{base}/openai/deployments/{deployment}/chat/completions?api-version=...`;
  options `deployment` (default: the upstream model) and `api_version` (default
  `AZURE_DEFAULT_API_VERSION`, the latest GA data-plane version).
* `mistral`: `seed` is `random_seed`, `max_completion_tokens` is `max_tokens`, embeddings'
  `dimensions` is `output_dimension`; `stream_options` is not accepted (Mistral sends usage
  in the last chunk unasked); it refuses unknown fields, so OpenAI-only ones are dropped or
  rejected as listed.
* `groq`: `n` must be 1; `logprobs`, `top_logprobs`, `logit_bias` are dropped (Groq rejects
  them; they never change the generated text); streamed usage comes in `x_groq.usage`.
* `openrouter`: base path `/api/v1`; passthrough.
* `cerebras`: no embeddings; penalties and `logit_bias` are rejected (Cerebras 400s on them
  and they change sampling); `parallel_tool_calls` and `service_tier` are dropped.

Every stream asks for usage where the provider accepts `stream_options` (the gateway strips
the usage chunk again when the client did not ask for it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ext_proc.translators import base
from ext_proc.translators.base import (
    ResponseTranslator,
    Target,
    TranslationError,
    UpstreamRequest,
)
from ext_proc.translators.openai_compat_response import (
    CompatErrorResponse,
    CompatJsonResponse,
    CompatStreamResponse,
)

JSONObject = dict[str, Any]
AZURE_DEFAULT_API_VERSION = "2024-10-21"
JSON_CONTENT_TYPE = (("content-type", "application/json"),)
ENDPOINT_SUFFIXES = {"chat.completions": "chat/completions", "embeddings": "embeddings"}
CHAT_CAPABILITIES = frozenset(
    {base.CHAT, base.CHAT_STREAM, base.TOOLS, base.TOOLS_STREAM, base.VISION, base.JSON_MODE}
)
OPENAI_ONLY = frozenset({"store", "metadata", "service_tier", "prompt_cache_key",
                         "safety_identifier"})


def default_path(target: Target, suffix: str) -> str:
    return f"{target.base_path}/{suffix}"


def azure_path(target: Target, suffix: str) -> str:
    deployment = target.options.get("deployment") or target.upstream_model
    if not deployment:
        raise TranslationError("The azure deployment has no 'deployment' option.", status=500)
    version = target.options.get("api_version") or AZURE_DEFAULT_API_VERSION
    return (
        f"{target.base_path}/openai/deployments/{deployment}/{suffix}?api-version={version}"
    )


@dataclass(frozen=True, slots=True)
class CompatProfile:
    name: str
    capabilities: frozenset[str]
    path: Callable[[Target, str], str] = default_path
    dropped: frozenset[str] = frozenset()  # removed from chat bodies, see module docstring
    rejected: frozenset[str] = frozenset()  # 400 naming the parameter when set
    renamed: Mapping[str, str] = field(default_factory=dict)  # OpenAI name -> provider's
    embeddings_renamed: Mapping[str, str] = field(default_factory=dict)
    embeddings_dropped: frozenset[str] = frozenset()
    stream_usage_option: bool = True  # send stream_options.include_usage on streams
    max_n: int | None = None


PROFILES: dict[str, CompatProfile] = {
    profile.name: profile
    for profile in (
        CompatProfile(
            "openai", CHAT_CAPABILITIES | {base.EMBEDDINGS, base.JSON_SCHEMA, base.N_CHOICES}
        ),
        CompatProfile(
            "azure",
            CHAT_CAPABILITIES | {base.EMBEDDINGS, base.JSON_SCHEMA, base.N_CHOICES},
            path=azure_path,
        ),
        CompatProfile(
            "mistral",
            CHAT_CAPABILITIES | {base.EMBEDDINGS, base.JSON_SCHEMA, base.N_CHOICES},
            dropped=OPENAI_ONLY | {"stream_options", "user"},
            rejected=frozenset({"logit_bias", "logprobs", "top_logprobs", "audio",
                                "modalities", "functions", "function_call"}),
            renamed={"seed": "random_seed", "max_completion_tokens": "max_tokens"},
            embeddings_renamed={"dimensions": "output_dimension"},
            embeddings_dropped=frozenset({"user"}),
            stream_usage_option=False,
        ),
        CompatProfile(
            "groq",
            CHAT_CAPABILITIES | {base.JSON_SCHEMA},
            dropped=frozenset({"logprobs", "top_logprobs", "logit_bias"}),
            stream_usage_option=False,
            max_n=1,
        ),
        CompatProfile("openrouter", CHAT_CAPABILITIES | {base.JSON_SCHEMA}),
        CompatProfile(
            "cerebras",
            CHAT_CAPABILITIES | {base.JSON_SCHEMA},
            dropped=frozenset({"parallel_tool_calls", "service_tier"}),
            rejected=frozenset({"frequency_penalty", "presence_penalty", "logit_bias"}),
            stream_usage_option=False,
        ),
    )
}


class OpenAICompatTranslator:
    def __init__(self, profile: CompatProfile) -> None:
        self.profile = profile
        self.name = profile.name
        self.capabilities = profile.capabilities

    def request(self, endpoint: str, body: dict[str, Any], target: Target) -> UpstreamRequest:
        suffix = ENDPOINT_SUFFIXES.get(endpoint)
        if suffix is None or (endpoint == "embeddings" and base.EMBEDDINGS not in
                              self.capabilities):
            raise TranslationError(f"{self.name} does not serve {endpoint}.", status=404)
        if endpoint == "embeddings":
            payload = openai_to_compat_embeddings(self.profile, body, target)
        else:
            payload = openai_to_compat_chat(self.profile, body, target)
        path = self.profile.path(target, suffix)
        return UpstreamRequest(path, orjson.dumps(payload), JSON_CONTENT_TYPE)

    def response(
        self, endpoint: str, upstream_status: int, stream: bool, request_model: str
    ) -> ResponseTranslator:
        if not 200 <= upstream_status < 300:
            return CompatErrorResponse(upstream_status)
        if stream and endpoint == "chat.completions":
            return CompatStreamResponse()
        return CompatJsonResponse()


def openai_to_compat_chat(
    profile: CompatProfile, body: dict[str, Any], target: Target
) -> JSONObject:
    for key in sorted(profile.rejected):
        if body.get(key) not in (None, False):
            raise TranslationError(f"{profile.name} does not support '{key}'.", param=key)
    n = body.get("n")
    if profile.max_n is not None and isinstance(n, int) and n > profile.max_n:
        raise TranslationError(f"{profile.name} supports n up to {profile.max_n}.", param="n")
    payload = _renamed(_without(body, profile.dropped), profile.renamed)
    if target.upstream_model:
        payload["model"] = target.upstream_model
    if payload.get("stream") and profile.stream_usage_option:
        options = payload.get("stream_options") or {}
        payload["stream_options"] = {**options, "include_usage": True}
    return payload


def openai_to_compat_embeddings(
    profile: CompatProfile, body: dict[str, Any], target: Target
) -> JSONObject:
    payload = _renamed(_without(body, profile.embeddings_dropped), profile.embeddings_renamed)
    if target.upstream_model:
        payload["model"] = target.upstream_model
    return payload


def _without(body: dict[str, Any], dropped: frozenset[str]) -> JSONObject:
    return {key: value for key, value in body.items() if key not in dropped}


def _renamed(body: JSONObject, renamed: Mapping[str, str]) -> JSONObject:
    """Provider names for OpenAI ones; the OpenAI name wins over a provider-named duplicate."""
    out = {key: value for key, value in body.items() if key not in renamed}
    for old, new in renamed.items():
        if body.get(old) is not None:
            out[new] = body[old]
    return out
