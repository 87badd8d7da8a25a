"""The upstream-level stream: once per attempt, translate and sign for the chosen provider.

Envoy runs this filter inside the cluster's upstream filter chain, so a retry or a fallback
that lands on another deployment is translated and credentialed for that deployment. The
router-level stream before it, and the client, only ever see OpenAI's wire format.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from envoy.extensions.filters.http.ext_proc.v3 import processing_mode_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb

from ext_proc import errors, pipeline
from ext_proc.messages import ROUTING_HEADER, header_option, header_values, immediate
from ext_proc.snapshot import Deployment, RuntimeSnapshot
from ext_proc.translators.base import ResponseTranslator, TranslationError, UpstreamRequest
from ext_proc.translators.registry import translator_for
from omg_common.routing_names import ENDPOINT_HEADER
from protos import usage_pb2

log = logging.getLogger("omg.ext_proc.upstream")

_STREAMED = processing_mode_pb2.ProcessingMode(
    response_body_mode=processing_mode_pb2.ProcessingMode.STREAMED
)
_SKIP_BODY = processing_mode_pb2.ProcessingMode(
    response_body_mode=processing_mode_pb2.ProcessingMode.NONE
)


class AttemptState:
    __slots__ = ("deployment", "endpoint", "failover", "model", "path", "request_id",
                 "response", "started_ns", "stream", "streaming_reply", "upstream_status")

    def __init__(self) -> None:
        self.started_ns = time.time_ns()
        self.request_id = ""
        self.deployment: Deployment | None = None
        self.failover = False  # the attempt of a fail-over route: Envoy chose the deployment
        self.path = ""
        self.endpoint = ""
        self.model = ""
        self.stream = False
        self.streaming_reply = False
        self.upstream_status = 0
        self.response: ResponseTranslator | None = None


def deployment_for(headers: dict[str, str], snap: RuntimeSnapshot) -> Deployment:
    """The deployment of this attempt: the endpoint Envoy picked (fail-over routes; the router
    level strips any client-sent value), else the routing header (a model's only deployment)."""
    landed = headers.get(ENDPOINT_HEADER)
    deployment = snap.deployments.get(landed or headers.get(ROUTING_HEADER, ""))
    if deployment is None:
        # 500, not 503: Envoy's local-reply mapper rewrites bodies from 502 up, which would
        # nest this OpenAI-format body in another; clients retry a 500 all the same.
        raise errors.GatewayError(500, "The selected deployment is no longer configured.",
                                  "server_error", "deployment_unavailable")
    return deployment


def translate_request(state: AttemptState, raw: bytes) -> UpstreamRequest:
    deployment = state.deployment
    assert deployment is not None
    body = pipeline.parse_json_object(raw)
    state.model = str(body.get("model", ""))
    state.stream = body.get("stream") is True
    translator = translator_for(deployment.provider)
    try:
        return translator.request(state.endpoint, body, deployment.target)
    except TranslationError as exc:
        raise errors.GatewayError(exc.status, exc.message, "invalid_request_error",
                                  "unsupported_parameter", exc.param) from None


def mutation(sets: list[tuple[str, str]], removes: list[str]) -> pb.HeaderMutation:
    return pb.HeaderMutation(
        set_headers=[header_option(k, v) for k, v in sets], remove_headers=removes
    )


async def signed_request_response(state: AttemptState, raw: bytes) -> pb.ProcessingResponse:
    deployment = state.deployment
    assert deployment is not None
    upstream = translate_request(state, raw)
    headers = {"content-type": "application/json", **dict(upstream.headers)}
    url = f"{deployment.scheme}://{deployment.host}{upstream.path}"
    auth = await deployment.auth.headers(method="POST", url=url, headers=headers,
                                         body=upstream.body)
    sets = [(":path", upstream.path), *headers.items(), *auth,
            ("content-length", str(len(upstream.body)))]
    if state.failover:
        sets.append((":authority", deployment.host))
    common = pb.CommonResponse(
        header_mutation=mutation(sets, [ROUTING_HEADER, ENDPOINT_HEADER, "authorization"]),
        body_mutation=pb.BodyMutation(body=upstream.body),
    )
    return pb.ProcessingResponse(request_body=pb.BodyResponse(response=common))


def passthrough_request_response(state: AttemptState, raw: bytes) -> pb.ProcessingResponse:
    """An OpenAI-format deployment reached by fail-over: its model name, path, host and key."""
    deployment = state.deployment
    assert deployment is not None
    body = pipeline.parse_json_object(raw)
    model = deployment.upstream_model or str(body.get("model", ""))
    changed = body.get("model") != model
    body["model"] = model
    out = orjson.dumps(body) if changed else raw
    sets = [(":path", passthrough_path(deployment, state.path)), (":authority", deployment.host),
            *deployment.upstream_headers, ("content-length", str(len(out)))]
    common = pb.CommonResponse(header_mutation=mutation(sets, [ENDPOINT_HEADER,
                                                               "authorization"]))
    if changed:
        common.body_mutation.body = out
    return pb.ProcessingResponse(request_body=pb.BodyResponse(response=common))


def passthrough_path(deployment: Deployment, client_path: str) -> str:
    """`/v1/chat/completions` -> `<base URL path>/chat/completions` (as the route's rewrite)."""
    rest = client_path[len("/v1"):] if client_path.startswith("/v1/") else client_path
    return f"{deployment.target.base_path}{rest}"


# A passthrough reply needs no translation: its body is skipped. (Which deployment served
# reaches the router level as the endpoint-metadata attribute, see ext_proc/messages.py.)
_PASSTHROUGH_REPLY = pb.ProcessingResponse(
    response_headers=pb.HeadersResponse(), mode_override=_SKIP_BODY)


def response_headers_response(state: AttemptState, http: pb.HttpHeaders) -> pb.ProcessingResponse:
    deployment = state.deployment
    assert deployment is not None
    headers = header_values(http)
    status = int(headers.get(":status", "0") or 0)
    if not deployment.translated:
        state.upstream_status = status
        return _PASSTHROUGH_REPLY
    translator = translator_for(deployment.provider)
    response = translator.response(state.endpoint, status, state.stream, state.model)
    state.response = response
    state.upstream_status = status
    state.streaming_reply = state.stream and 200 <= status < 300
    sets = list(response.headers())
    if state.streaming_reply:
        sets.append((":status", str(response.status(status))))
    # A buffered reply's status is set with its body: some providers' bodies decide it.
    reply = pb.ProcessingResponse(
        response_headers=pb.HeadersResponse(
            response=pb.CommonResponse(header_mutation=mutation(sets, ["content-length"]))
        )
    )
    if state.streaming_reply:
        reply.mode_override.CopyFrom(_STREAMED)
    return reply


def response_body_response(state: AttemptState, body: pb.HttpBody) -> pb.ProcessingResponse:
    response = state.response
    assert response is not None
    out = response.body(body.body, body.end_of_stream)
    common = pb.CommonResponse(body_mutation=pb.BodyMutation(body=out))
    if not state.streaming_reply:
        status = str(response.status(state.upstream_status))
        common.header_mutation.CopyFrom(
            mutation([(":status", status), ("content-length", str(len(out)))], [])
        )
    return pb.ProcessingResponse(response_body=pb.BodyResponse(response=common))


# Told about each finished attempt (e.g. to export it as a span); None: nobody listens.
AttemptTracer = Callable[[AttemptState], None]


def is_failed_status(status: int) -> bool:
    """What fail-over retries on by default: no answer (0), 429, or a server error."""
    return status == 0 or status == 429 or status >= 500


def failed_attempt(state: AttemptState) -> usage_pb2.FailedAttempt | None:
    """The record of a fail-over attempt that failed (Envoy may have retried elsewhere)."""
    deployment = state.deployment
    if not state.failover or deployment is None or not is_failed_status(state.upstream_status):
        return None
    return usage_pb2.FailedAttempt(
        request_id=state.request_id, created_at_ms=state.started_ns // 1_000_000,
        deployment_id=deployment.id, provider=deployment.provider, model=deployment.model,
        status=state.upstream_status, latency_ms=(time.time_ns() - state.started_ns) / 1e6)


async def process_attempt(
    requests: AsyncIterator[pb.ProcessingRequest], snap: RuntimeSnapshot,
    tracer: AttemptTracer | None = None,
) -> AsyncIterator[pb.ProcessingResponse]:
    state = AttemptState()
    try:
        async for request in requests:
            kind = request.WhichOneof("request")
            try:
                yield await _step(state, snap, kind, request)
            except errors.GatewayError as err:
                state.upstream_status = state.upstream_status or err.status
                yield immediate(err)
                return
            except Exception:
                log.exception("upstream translation failed on %s", kind)
                yield immediate(errors.internal_error(""))
                return
    finally:
        if tracer is not None:
            tracer(state)


async def _step(
    state: AttemptState, snap: RuntimeSnapshot, kind: str | None, request: Any
) -> pb.ProcessingResponse:
    if kind == "request_headers":
        headers = header_values(request.request_headers)
        state.request_id = headers.get("x-request-id", "")
        state.deployment = deployment_for(headers, snap)
        state.failover = ENDPOINT_HEADER in headers
        state.path = headers.get(":path", "")
        state.endpoint = pipeline.ROUTED_ENDPOINTS.get(pipeline.split_path(state.path), "")
        return pb.ProcessingResponse(request_headers=pb.HeadersResponse())
    if kind == "request_body":
        if state.deployment is not None and not state.deployment.translated:
            return passthrough_request_response(state, request.request_body.body)
        return await signed_request_response(state, request.request_body.body)
    if kind == "response_headers":
        return response_headers_response(state, request.response_headers)
    if kind == "response_body":
        return response_body_response(state, request.response_body)
    raise errors.GatewayError(500, f"unexpected ext_proc message {kind}", "server_error")
