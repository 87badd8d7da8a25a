"""OpenAI embeddings <-> Gemini: AI Studio `:embedContent` / `:batchEmbedContents`, Vertex
`:predict` (text-embedding models: `instances[{content}]` -> `predictions[].embeddings`).

Vectors are always returned as float arrays: the response side cannot see the request, and
the OpenAI SDKs (which ask for base64 by default) accept floats too. AI Studio reports no
token counts, so its usage is zero; Vertex reports `statistics.token_count` per input.
Token-array inputs have no Gemini equivalent and are rejected.
"""

from __future__ import annotations

from typing import Any

import orjson

from ext_proc.translators import openai_chunks as oc
from ext_proc.translators.base import TranslationError
from ext_proc.usage import Usage

JSONObject = dict[str, Any]
DROPPED_PARAMS = frozenset({"user", "encoding_format"})
HANDLED_PARAMS = frozenset({"model", "input", "dimensions"})


def embedding_inputs(body: dict[str, Any]) -> list[str]:
    for key, value in body.items():
        if key not in HANDLED_PARAMS and key not in DROPPED_PARAMS and value is not None:
            raise TranslationError(f"Parameter '{key}' is not supported by Gemini.", param=key)
    raw = body.get("input")
    inputs = [raw] if isinstance(raw, str) else raw
    if not isinstance(inputs, list) or not inputs:
        raise TranslationError("input must be a string or an array of strings.", param="input")
    for i, item in enumerate(inputs):
        if not isinstance(item, str) or not item:
            message = "Gemini embeds non-empty strings only (no token arrays)."
            raise TranslationError(message, param=f"input[{i}]")
    return inputs


def openai_to_gemini_embeddings(
    body: dict[str, Any], model: str, *, vertex: bool
) -> tuple[str, JSONObject]:
    """(method, body) of the embeddings call."""
    inputs = embedding_inputs(body)
    dimensions = body.get("dimensions")
    if vertex:
        payload: JSONObject = {"instances": [{"content": text} for text in inputs]}
        if dimensions is not None:
            payload["parameters"] = {"outputDimensionality": dimensions}
        return "predict", payload
    requests = [_embed_request(text, dimensions) for text in inputs]
    if isinstance(body.get("input"), str):
        return "embedContent", requests[0]
    return "batchEmbedContents", {"requests": [{"model": f"models/{model}", **request}
                                               for request in requests]}


def _embed_request(text: str, dimensions: Any) -> JSONObject:
    request: JSONObject = {"content": {"parts": [{"text": text}]}}
    if dimensions is not None:
        request["outputDimensionality"] = dimensions
    return request


def gemini_embeddings_to_vectors(response: JSONObject) -> tuple[list[Any], int]:
    """(vectors, prompt tokens) of any of the three answer shapes."""
    if isinstance(response.get("predictions"), list):
        embeddings = [item.get("embeddings") or {} for item in response["predictions"]]
        tokens = sum(
            (item.get("statistics") or {}).get("token_count", 0) for item in embeddings
        )
        return [item.get("values") for item in embeddings], int(tokens)
    if isinstance(response.get("embeddings"), list):
        return [item.get("values") for item in response["embeddings"]], 0
    if isinstance(response.get("embedding"), dict):
        return [response["embedding"].get("values")], 0
    raise ValueError("no embeddings in the Gemini answer")


class GeminiEmbeddingsResponse:
    def __init__(self, request_model: str) -> None:
        self.usage: Usage | None = None
        self._model = request_model

    def status(self, upstream_status: int) -> int:
        return upstream_status

    def headers(self) -> tuple[tuple[str, str], ...]:
        return oc.JSON_HEADERS

    def body(self, chunk: bytes, end_of_stream: bool) -> bytes:
        response = oc.parse_json(chunk)
        try:
            vectors, tokens = gemini_embeddings_to_vectors(response)
        except (AttributeError, ValueError):
            return oc.openai_error(502, "Gemini returned no embeddings.", "bad_upstream")
        self.usage = Usage(prompt_tokens=tokens, total_tokens=tokens)
        data = [
            {"object": "embedding", "index": i, "embedding": vector}
            for i, vector in enumerate(vectors)
        ]
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return orjson.dumps({"object": "list", "data": data, "model": self._model,
                             "usage": usage})
