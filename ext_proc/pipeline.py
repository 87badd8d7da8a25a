"""The request pipeline's decisions, as small pure functions over plain data.

Nothing here touches gRPC or Envoy protos: the servicer adapts. Each step either returns what
the next one needs or raises `GatewayError` (converted to an OpenAI-format reply elsewhere).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import orjson

from ext_proc import errors
from ext_proc.snapshot import Deployment, Principal, RuntimeSnapshot

# Client paths the gateway routes upstream, and the endpoint name recorded in usage.
ROUTED_ENDPOINTS: dict[str, str] = {
    "/v1/chat/completions": "chat.completions",
    "/v1/completions": "completions",
    "/v1/embeddings": "embeddings",
}
MODELS_PATH = "/v1/models"
STREAMING_ENDPOINTS = frozenset({"chat.completions", "completions"})


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """Where one request goes and what the upstream receives."""

    model: str
    deployment: Deployment
    stream: bool
    client_wants_usage: bool
    body: bytes | None  # replacement request body; None when the client's bytes go as they are


def split_path(path: str) -> str:
    """The path without its query string."""
    cut = path.find("?")
    return path if cut < 0 else path[:cut]


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(
    authorization: str | None, snap: RuntimeSnapshot, now_ms: int, hash_secret: Any
) -> Principal:
    token = bearer_token(authorization)
    if token is None:
        raise errors.invalid_api_key(
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'."
        )
    principal = snap.principals.get(hash_secret(token))
    if principal is None:
        raise errors.invalid_api_key("Incorrect API key provided.")
    if principal.expires_at_ms and principal.expires_at_ms <= now_ms:
        raise errors.invalid_api_key("The API key has expired.")
    return principal


def routed_endpoint(method: str, path: str) -> str:
    """The endpoint name of a routed request, or a 404/405-style error."""
    endpoint = ROUTED_ENDPOINTS.get(path)
    if endpoint is None:
        raise errors.unknown_url(method, path)
    if method != "POST":
        raise errors.GatewayError(
            405, f"Method {method} is not allowed for {path}.", code="method_not_allowed"
        )
    return endpoint


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(
            f"We could not parse the JSON body of your request: {exc.msg}.", code="invalid_json"
        ) from None
    if not isinstance(body, dict):
        raise errors.bad_request("The request body must be a JSON object.", code="invalid_json")
    return body


def requested_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise errors.bad_request("You must provide a model parameter.", param="model")
    return model


def pick_deployment(deployments: tuple[Deployment, ...], rng: random.Random) -> Deployment:
    """Weighted choice among the deployments of the best (lowest) priority."""
    if len(deployments) == 1:
        return deployments[0]
    best = deployments[0].priority
    tier = [d for d in deployments if d.priority == best]
    weights = [max(d.weight, 0) for d in tier]
    if not any(weights):
        return tier[0]
    return rng.choices(tier, weights)[0]


def resolve_deployment(
    model: str, principal: Principal, snap: RuntimeSnapshot, rng: random.Random
) -> Deployment:
    deployments = snap.routes.get(model)
    if not deployments or not principal.may_use(model):
        raise errors.model_not_found(model)
    return pick_deployment(deployments, rng)


def stream_flags(body: dict[str, Any], endpoint: str) -> tuple[bool, bool]:
    """(stream requested, client asked for the usage chunk)."""
    if endpoint not in STREAMING_ENDPOINTS or body.get("stream") is not True:
        return False, False
    options = body.get("stream_options")
    return True, isinstance(options, dict) and options.get("include_usage") is True


def upstream_body(
    body: dict[str, Any], deployment: Deployment, stream: bool, client_wants_usage: bool
) -> bytes | None:
    """The body to send upstream, or None when the client's bytes can go unchanged.

    Streams always ask the upstream for the usage chunk, so usage is captured either way.
    """
    changed = False
    if deployment.upstream_model and body.get("model") != deployment.upstream_model:
        body["model"] = deployment.upstream_model
        changed = True
    if stream and not client_wants_usage:
        options = body.get("stream_options")
        body["stream_options"] = {**(options if isinstance(options, dict) else {}),
                                  "include_usage": True}
        changed = True
    return orjson.dumps(body) if changed else None


def decide_route(
    raw: bytes, endpoint: str, principal: Principal, snap: RuntimeSnapshot, rng: random.Random
) -> RouteDecision:
    return route_body(parse_json_object(raw), endpoint, principal, snap, rng)


def route_body(
    body: dict[str, Any], endpoint: str, principal: Principal, snap: RuntimeSnapshot,
    rng: random.Random,
) -> RouteDecision:
    """Decide from a parsed body; `body` may be changed (what the upstream gets)."""
    model = requested_model(body)
    deployment = resolve_deployment(model, principal, snap, rng)
    stream, wants_usage = stream_flags(body, endpoint)
    new_body = upstream_body(body, deployment, stream, wants_usage)
    return RouteDecision(model, deployment, stream, wants_usage, new_body)


def model_object(info: Any) -> dict[str, Any]:
    return {
        "id": info.name,
        "object": "model",
        "created": info.created_at_ms // 1000,
        "owned_by": info.owned_by,
    }


def list_models(principal: Principal, snap: RuntimeSnapshot) -> bytes:
    data = [
        model_object(info)
        for name, info in sorted(snap.models.items())
        if name in snap.routes and principal.may_use(name)
    ]
    return orjson.dumps({"object": "list", "data": data})


def retrieve_model(name: str, principal: Principal, snap: RuntimeSnapshot) -> bytes:
    info = snap.models.get(name)
    if info is None or name not in snap.routes or not principal.may_use(name):
        raise errors.model_not_found(name)
    return orjson.dumps(model_object(info))


def models_response(method: str, path: str, principal: Principal, snap: RuntimeSnapshot) -> bytes:
    """Answer `GET /v1/models[/{id}]` from the snapshot: only what the key may use."""
    if method != "GET":
        raise errors.GatewayError(405, f"Method {method} is not allowed for {path}.")
    if path == MODELS_PATH:
        return list_models(principal, snap)
    return retrieve_model(path[len(MODELS_PATH) + 1 :], principal, snap)


def is_models_path(path: str) -> bool:
    return path == MODELS_PATH or path.startswith(MODELS_PATH + "/")
