"""What differs between the OpenAI-compatible providers, as data for the one fake.

Each `Flavor` says where the routes are, which header carries the credential, how errors
look, which request fields the provider refuses, and where streamed usage goes:

* `openai`/`azure`: a usage-only chunk, only with `stream_options.include_usage`; Azure
  first sends a `prompt_filter_results` chunk with no choices;
* `groq`: `x_groq.usage` on the finish chunk (`x_groq.id` on the first);
* `mistral`, `cerebras`: `usage` on the finish chunk, always (Mistral refuses
  `stream_options`; Cerebras adds `time_info`);
* `openrouter`: an SSE comment first, then always a usage-only chunk with `cost`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSONObject = dict[str, Any]

OPENAI_CHAT_FIELDS = frozenset({
    "model", "messages", "temperature", "top_p", "n", "stream", "stream_options", "stop",
    "max_tokens", "max_completion_tokens", "presence_penalty", "frequency_penalty",
    "logit_bias", "logprobs", "top_logprobs", "user", "seed", "tools", "tool_choice",
    "parallel_tool_calls", "response_format", "store", "metadata", "service_tier",
    "reasoning_effort", "prediction", "modalities", "audio", "prompt_cache_key",
    "safety_identifier", "web_search_options", "functions", "function_call", "verbosity",
})
MISTRAL_CHAT_FIELDS = frozenset({
    "model", "messages", "temperature", "top_p", "max_tokens", "stream", "stop",
    "random_seed", "response_format", "tools", "tool_choice", "presence_penalty",
    "frequency_penalty", "n", "prediction", "parallel_tool_calls", "safe_prompt",
    "prompt_mode",
})
MISTRAL_EMBEDDING_FIELDS = frozenset({"model", "input", "output_dimension", "output_dtype",
                                      "encoding_format"})


@dataclass(frozen=True, slots=True)
class Flavor:
    name: str
    prefix: str  # path prefix of the API routes
    auth_header: str  # "authorization" (Bearer) or "api-key"
    error_style: str  # "openai", "top_level" (Mistral, Cerebras), "code_message"
    usage_style: str  # "include_usage", "x_groq", "finish_chunk", "always_chunk"
    missing_auth: str
    chat_fields: frozenset[str] = OPENAI_CHAT_FIELDS
    refused: frozenset[str] = frozenset()  # fields answered with a 400
    embeddings: bool = False
    max_n: int = 128


FLAVORS: dict[str, Flavor] = {
    flavor.name: flavor
    for flavor in (
        Flavor("openai", "/v1", "authorization", "openai", "include_usage",
               "You didn't provide an API key.", embeddings=True),
        Flavor("azure", "/openai/deployments/", "api-key", "code_message", "include_usage",
               "Access denied due to invalid subscription key or wrong API endpoint. Make "
               "sure to provide a valid key for an active subscription and use a correct "
               "regional API endpoint for your resource.", embeddings=True),
        Flavor("mistral", "/v1", "authorization", "top_level", "finish_chunk", "Unauthorized",
               chat_fields=MISTRAL_CHAT_FIELDS, embeddings=True),
        Flavor("groq", "/openai/v1", "authorization", "openai", "x_groq", "Invalid API Key",
               refused=frozenset({"logprobs", "top_logprobs", "logit_bias"}), max_n=1),
        Flavor("openrouter", "/api/v1", "authorization", "code_message", "always_chunk",
               "No auth credentials found"),
        Flavor("cerebras", "/v1", "authorization", "top_level", "finish_chunk",
               "Wrong API Key",
               refused=frozenset({"frequency_penalty", "presence_penalty", "logit_bias",
                                  "parallel_tool_calls", "service_tier"})),
    )
}


def error_payload(
    flavor: Flavor, status: int, message: Any, param: str | None = None,
    code: str | None = None,
) -> JSONObject:
    """The provider's own error body."""
    error_type = "invalid_request_error" if status < 500 else "server_error"
    if flavor.error_style == "top_level":
        if flavor.name == "mistral" and status == 422:
            error_type = "invalid_request_message_error"
        return {"object": "error", "message": message, "type": error_type, "param": param,
                "code": code}
    if flavor.error_style == "code_message":
        if flavor.name == "openrouter":
            return {"error": {"code": status, "message": message}}
        return {"error": {"code": code or str(status), "message": message, "param": param,
                          "type": None}}
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def openrouter_models() -> JSONObject:
    """`GET /api/v1/models` in OpenRouter's format (a fixed, small catalog)."""
    def model(model_id: str, name: str, context: int, prompt: str, completion: str) -> JSONObject:
        return {
            "id": model_id, "canonical_slug": model_id, "name": name, "created": 1_700_000_000,
            "description": f"{name} (fake catalog entry).", "context_length": context,
            "architecture": {"modality": "text->text", "input_modalities": ["text"],
                             "output_modalities": ["text"], "tokenizer": "Other",
                             "instruct_type": None},
            "pricing": {"prompt": prompt, "completion": completion, "request": "0",
                        "image": "0", "web_search": "0", "internal_reasoning": "0"},
            "top_provider": {"context_length": context, "max_completion_tokens": 4096,
                             "is_moderated": False},
            "per_request_limits": None,
            "supported_parameters": ["max_tokens", "temperature", "tools", "tool_choice"],
        }

    return {"data": [
        model("mock/fast", "Mock: Fast", 131072, "0.0000001", "0.0000004"),
        model("mock/smart", "Mock: Smart", 200000, "0.000003", "0.000015"),
        model("openrouter/auto", "Auto Router", 2000000, "-1", "-1"),
    ]}
