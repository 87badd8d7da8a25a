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
from ext_proc.snapshot import Deployment, ModelInfo, Principal, RuntimeSnapshot
from omg_common.routing_names import model_cluster_name

# Client paths the gateway routes upstream, and the endpoint name recorded in usage.
ROUTED_ENDPOINTS: dict[str, str] = {
    "/v1/chat/completions": "chat.completions",
    "/v1/completions": "completions",
    "/v1/embeddings": "embeddings",
}
MODELS_PATH = "/v1/models"
STREAMING_ENDPOINTS = frozenset({"chat.completions", "completions"})
BYTES_PER_TOKEN_LOWER_BOUND = 8


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """Where one request goes and what the upstream receives.

    With one candidate, `deployment` is where the request goes. With several (fail-over),
    Envoy picks per attempt; `deployment` is then the primary one, for the record until the
    response names the deployment that served.
    """

    model: str  # the canonical name, also when the client asked by an alias
    deployment: Deployment
    stream: bool
    client_wants_usage: bool
    body: bytes | None  # replacement request body; None when the client's bytes go as they are
    candidates: tuple[Deployment, ...] = ()

    @property
    def failover(self) -> bool:
        return len(self.candidates) > 1

    @property
    def route_key(self) -> str:
        """The routing header's value: the deployment, or the model's fail-over route."""
        return model_cluster_name(self.model) if self.failover else self.deployment.id

    def candidate(self, deployment_id: str) -> Deployment | None:
        return next((d for d in self.candidates if d.id == deployment_id), None)


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


def usable_model(name: str, principal: Principal, snap: RuntimeSnapshot) -> ModelInfo | None:
    """The model behind a public name (or alias), if it is routable and the key may use it."""
    info = snap.model_named(name)
    if info is None or info.name not in snap.routes:
        return None
    return info if principal.may_use(info.name, info.aliases) else None


def resolve_candidates(
    name: str, principal: Principal, snap: RuntimeSnapshot
) -> tuple[str, tuple[Deployment, ...]]:
    """(canonical model name, its enabled deployments, best priority first)."""
    info = usable_model(name, principal, snap)
    if info is None:
        raise errors.model_not_found(name)
    return info.name, snap.routes[info.name]


def resolve_deployment(
    name: str, principal: Principal, snap: RuntimeSnapshot, rng: random.Random
) -> Deployment:
    return pick_deployment(resolve_candidates(name, principal, snap)[1], rng)


def check_context_window(
    body: dict[str, Any], body_size: int, deployments: tuple[Deployment, ...]
) -> None:
    """Refuse only what no deployment can take: the prompt is counted at a lower bound
    (8 bytes per token), so a request that might fit is never refused here."""
    windows = [d.context_window for d in deployments]
    if not windows or 0 in windows:
        return  # some deployment's window is unknown
    completion = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    needed = -(-body_size // BYTES_PER_TOKEN_LOWER_BOUND) + (
        completion if isinstance(completion, int) else 0)
    if needed > max(windows):
        raise errors.bad_request(
            f"This model's maximum context length is {max(windows)} tokens. However, you "
            f"requested at least {needed} tokens. Please reduce the length of the messages "
            "or completion.", param="messages", code="context_length_exceeded")


def stream_flags(body: dict[str, Any], endpoint: str) -> tuple[bool, bool]:
    """(stream requested, client asked for the usage chunk)."""
    if endpoint not in STREAMING_ENDPOINTS or body.get("stream") is not True:
        return False, False
    options = body.get("stream_options")
    return True, isinstance(options, dict) and options.get("include_usage") is True


def upstream_body(
    body: dict[str, Any], model: str, stream: bool, client_wants_usage: bool
) -> bytes | None:
    """The body to send upstream, or None when the client's bytes can go unchanged.

    `model` is the name the upstream expects. Streams always ask the upstream for the usage
    chunk, so usage is captured either way.
    """
    changed = False
    if model and body.get("model") != model:
        body["model"] = model
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
    return route_body(parse_json_object(raw), endpoint, principal, snap, rng, len(raw))


def route_body(
    body: dict[str, Any], endpoint: str, principal: Principal, snap: RuntimeSnapshot,
    rng: random.Random, body_size: int = 0,
) -> RouteDecision:
    """Decide from a parsed body; `body` may be changed (what the upstream gets)."""
    model, candidates = resolve_candidates(requested_model(body), principal, snap)
    check_context_window(body, body_size, candidates)
    deployment = pick_deployment(candidates, rng)
    stream, wants_usage = stream_flags(body, endpoint)
    # With fail-over the upstream-level stream names the model per attempt; until then the
    # body carries the canonical name (an alias never reaches a provider).
    upstream_model = model if len(candidates) > 1 else deployment.upstream_model or model
    new_body = upstream_body(body, upstream_model, stream, wants_usage)
    return RouteDecision(model, deployment, stream, wants_usage, new_body, candidates)


def model_object(name: str, info: ModelInfo, snap: RuntimeSnapshot) -> dict[str, Any]:
    """OpenAI's model object; `name` is the canonical name or an alias of `info`."""
    obj: dict[str, Any] = {
        "id": name,
        "object": "model",
        "created": info.created_at_ms // 1000,
        "owned_by": info.owned_by,
    }
    if name != info.name:
        obj["alias_of"] = info.name
    windows = [d.context_window for d in snap.routes.get(info.name, ())]
    if windows and 0 not in windows:
        obj["context_window"] = max(windows)
    return obj


def list_models(principal: Principal, snap: RuntimeSnapshot) -> bytes:
    """Every name (canonical and aliases) of every model the key may use."""
    data = [
        model_object(name, info, snap)
        for name in sorted(snap.canonical)
        if (info := usable_model(name, principal, snap)) is not None
    ]
    return orjson.dumps({"object": "list", "data": data})


def retrieve_model(name: str, principal: Principal, snap: RuntimeSnapshot) -> bytes:
    info = usable_model(name, principal, snap)
    if info is None:
        raise errors.model_not_found(name)
    return orjson.dumps(model_object(name, info, snap))


def models_response(method: str, path: str, principal: Principal, snap: RuntimeSnapshot) -> bytes:
    """Answer `GET /v1/models[/{id}]` from the snapshot: only what the key may use."""
    if method != "GET":
        raise errors.GatewayError(405, f"Method {method} is not allowed for {path}.")
    if path == MODELS_PATH:
        return list_models(principal, snap)
    return retrieve_model(path[len(MODELS_PATH) + 1 :], principal, snap)


def is_models_path(path: str) -> bool:
    return path == MODELS_PATH or path.startswith(MODELS_PATH + "/")
