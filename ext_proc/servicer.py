"""The gRPC ExternalProcessor: a thin adapter between Envoy's protos and the pipeline."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from envoy.service.ext_proc.v3 import external_processor_pb2 as pb
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc

from ext_proc import errors, pipeline
from ext_proc.budget import BudgetExceeded
from ext_proc.budget_guard import BudgetGuard, BudgetReservation
from ext_proc.budget_store import MemoryBudgetStore
from ext_proc.context import RequestContext
from ext_proc.counters import MemoryCounters
from ext_proc.limiter import RateLimiter
from ext_proc.messages import (
    ROUTING_HEADER,
    ResponseFacts,
    header_option,
    header_values,
    immediate,
    json_reply,
    response_facts,
    with_quota_metadata,
)
from ext_proc.pricing import estimate_pico, estimate_usage
from ext_proc.ratelimit import estimate_tokens, settle_delta
from ext_proc.snapshot import SnapshotHolder
from ext_proc.upstream import AttemptState, AttemptTracer, failed_attempt, process_attempt
from ext_proc.usage import JsonUsageTap, SseUsageTap
from omg_common.keys import hash_secret
from omg_common.routing_names import ENDPOINT_HEADER
from protos import usage_pb2

log = logging.getLogger("omg.ext_proc")

_CONTINUE_REQUEST_HEADERS = pb.ProcessingResponse(request_headers=pb.HeadersResponse())
_CONTINUE_RESPONSE_BODY = pb.ProcessingResponse(response_body=pb.BodyResponse())

UsageSink = Callable[[usage_pb2.UsageRecord], None]
FailedAttemptSink = Callable[[usage_pb2.FailedAttempt], None]
# Called once per finished request with its record and the seconds spent in ext_proc.
RequestObserver = Callable[[usage_pb2.UsageRecord, float], None]
PHASE_METADATA = ("x-omg-phase", "upstream")  # set on the upstream-level filter's gRPC calls


def is_upstream_phase(context: Any) -> bool:
    return any(tuple(item) == PHASE_METADATA for item in context.invocation_metadata() or ())


def routing_response(decision: pipeline.RouteDecision) -> pb.ProcessingResponse:
    # With fail-over the upstream-level stream sets each attempt's credentials.
    static = () if decision.failover else decision.deployment.upstream_headers
    sets = [header_option(ROUTING_HEADER, decision.route_key)]
    sets.extend(header_option(k, v) for k, v in static)
    if decision.body is not None:  # Envoy refuses a mutated body under the old length
        sets.append(header_option("content-length", str(len(decision.body))))
    # The client's key never travels on; compressed bodies could not be read for usage.
    # Only Envoy names the endpoint of an attempt (see `omg_common.routing_names`).
    removes = ["accept-encoding", ENDPOINT_HEADER]
    if not any(k == "authorization" for k, _ in static):
        removes.append("authorization")
    common = pb.CommonResponse(
        header_mutation=pb.HeaderMutation(set_headers=sets, remove_headers=removes),
        clear_route_cache=True,
    )
    if decision.body is not None:
        common.body_mutation.body = decision.body
    return pb.ProcessingResponse(request_body=pb.BodyResponse(response=common))


class ExternalProcessor(external_processor_pb2_grpc.ExternalProcessorServicer):
    def __init__(
        self, holder: SnapshotHolder, sink: UsageSink, rng: random.Random,
        limiter: RateLimiter | None = None, observe: RequestObserver | None = None,
        attempt_tracer: AttemptTracer | None = None, budgets: BudgetGuard | None = None,
        failed_attempt_sink: FailedAttemptSink | None = None,
    ) -> None:
        self._holder = holder
        self._sink = sink
        self._rng = rng
        self._limiter = limiter or RateLimiter(MemoryCounters())
        self._observe = observe or (lambda record, overhead: None)
        self._attempt_tracer = attempt_tracer
        self._failed_attempt_sink = failed_attempt_sink
        self._budgets = budgets or BudgetGuard(MemoryBudgetStore())

    def _attempt_ended(self, state: AttemptState) -> None:
        """Every upstream attempt: traced (OTLP, when on); a failed fail-over attempt is
        recorded, since the usage record only names the deployment that answered last."""
        if self._attempt_tracer is not None:
            self._attempt_tracer(state)
        if self._failed_attempt_sink is not None:
            record = failed_attempt(state)
            if record is not None:
                self._failed_attempt_sink(record)

    async def Process(
        self, request_iterator: AsyncIterator[pb.ProcessingRequest], context: Any
    ) -> AsyncIterator[pb.ProcessingResponse]:
        snap = self._holder.current
        if is_upstream_phase(context):
            async for response in process_attempt(request_iterator, snap, self._attempt_ended):
                yield response
            return
        ctx = RequestContext()
        try:
            async for request in request_iterator:
                ctx.callback_started = time.perf_counter()
                response = await self._dispatch(ctx, snap, request)
                ctx.overhead += time.perf_counter() - ctx.callback_started
                if response is not None:
                    yield response
                if ctx.finished:
                    # Closing the gRPC stream (status OK) tells Envoy to pass the rest of
                    # the response on by itself: no empty end-of-stream message to answer.
                    return
        finally:
            if ctx.recordable:
                # The client went away before the response ended. A stream client often
                # closes right after `[DONE]`, before Envoy passes on the end of the body:
                # the usage the stream already carried still counts.
                ctx.status = ctx.status or 499
                ctx.callback_started = time.perf_counter()
                if ctx.usage is None and ctx.tap is not None:
                    ctx.usage = ctx.tap.usage
                self._finish(ctx)

    async def _dispatch(
        self, ctx: RequestContext, snap: Any, request: pb.ProcessingRequest
    ) -> pb.ProcessingResponse | None:
        kind = request.WhichOneof("request")
        try:
            if kind == "request_headers":
                return self._on_request_headers(ctx, snap, request.request_headers)
            if kind == "request_body":
                return await self._on_request_body(ctx, snap, request.request_body)
            if kind == "response_body":
                return self._on_response_body(ctx, request)
        except errors.GatewayError as err:
            return self._reject(ctx, err)
        except Exception:
            log.exception("ext_proc failed on %s (request %s)", kind, ctx.request_id)
            return self._reject(ctx, errors.internal_error(ctx.request_id))
        return None

    def _reject(self, ctx: RequestContext, err: errors.GatewayError) -> pb.ProcessingResponse:
        ctx.status = err.status
        ctx.error_type = err.code or err.type
        if isinstance(err, BudgetExceeded):
            ctx.refused_by_budget = err.budget_id
        if ctx.recordable:
            self._finish(ctx)
        elif ctx.principal is None:  # billed to nobody, but still a request to count
            now = time.perf_counter()
            self._observe(ctx.anonymous_record(now), ctx.overhead + now - ctx.callback_started)
        return immediate(err)

    def _on_request_headers(
        self, ctx: RequestContext, snap: Any, http: pb.HttpHeaders
    ) -> pb.ProcessingResponse:
        headers = header_values(http)
        ctx.request_id = headers.get("x-request-id", "")
        now_ms = time.time_ns() // 1_000_000
        principal = pipeline.authenticate(headers.get("authorization"), snap, now_ms, hash_secret)
        method = headers.get(":method", "")
        path = pipeline.split_path(headers.get(":path", ""))
        if pipeline.is_models_path(path):
            return json_reply(pipeline.models_response(method, path, principal, snap))
        ctx.endpoint = pipeline.routed_endpoint(method, path)
        ctx.principal = principal
        if http.end_of_stream:
            raise errors.bad_request("This endpoint requires a JSON request body.")
        return _CONTINUE_REQUEST_HEADERS

    async def _on_request_body(
        self, ctx: RequestContext, snap: Any, body: pb.HttpBody
    ) -> pb.ProcessingResponse:
        principal = ctx.principal
        assert principal is not None
        parsed = pipeline.parse_json_object(body.body)
        decision = pipeline.route_body(
            parsed, ctx.endpoint, principal, snap, self._rng, len(body.body))
        plan = principal.limits
        if plan is not None:  # only keys with a limit pay for counting
            tokens = estimate_tokens(len(body.body), parsed, ctx.endpoint) \
                if plan.counts_tokens else 0
            ctx.reservation = await self._limiter.reserve(plan, tokens)
        if principal.budgets:  # only keys under a budget pay for reserving
            ctx.budget_reservation = await self._reserve_budget(ctx, snap, decision, body, parsed)
        ctx.decision = decision
        if decision.stream:
            ctx.tap = SseUsageTap(strip_usage=not decision.client_wants_usage)
        reply = routing_response(decision)
        if ctx.reservation is not None and ctx.reservation.headers:
            return with_quota_metadata(reply, ctx.reservation.headers)
        return reply

    async def _reserve_budget(
        self, ctx: RequestContext, snap: Any, decision: pipeline.RouteDecision,
        body: pb.HttpBody, parsed: dict[str, Any],
    ) -> BudgetReservation | None:
        assert ctx.principal is not None
        now_ms = time.time_ns() // 1_000_000
        deployments = snap.routes.get(decision.model) or (decision.deployment,)
        usage = estimate_usage(len(body.body), parsed, ctx.endpoint)
        estimate = estimate_pico([d.prices for d in deployments], usage, now_ms)
        return await self._budgets.reserve(ctx.principal.budgets, estimate, now_ms)

    # Envoy SKIPs response headers and STREAMs the response body (one message fewer per
    # request than a headers message plus a buffered body): the status, the attempts and the
    # endpoint that answered arrive as attributes on the first body message. Envoy sends the
    # end of stream as a message of its own; once the reply is complete (whole JSON, or
    # `[DONE]`) the stream is closed instead, so a plain reply costs one response message.
    def _on_response_body(
        self, ctx: RequestContext, request: pb.ProcessingRequest
    ) -> pb.ProcessingResponse:
        body = request.response_body
        if not ctx.response_started:
            self._on_first_response_chunk(ctx, response_facts(request))
        tap = ctx.tap
        if tap is None:
            return self._on_json_chunk(ctx, body)
        if not ctx.first_byte_at and body.body:
            ctx.first_byte_at = time.perf_counter()
        replaced = tap.feed(body.body, body.end_of_stream)
        if body.end_of_stream or tap.done:
            ctx.usage = tap.usage
            self._finish(ctx)
        if replaced is None:
            return _CONTINUE_RESPONSE_BODY
        return pb.ProcessingResponse(
            response_body=pb.BodyResponse(
                response=pb.CommonResponse(body_mutation=pb.BodyMutation(body=replaced))
            )
        )

    def _on_first_response_chunk(self, ctx: RequestContext, facts: ResponseFacts) -> None:
        ctx.note_response(facts)
        status = facts.status
        if status != 200:  # errors come back as one JSON body, also for stream requests
            ctx.tap = None
        if ctx.tap is None:
            ctx.json_tap = JsonUsageTap()

    def _on_json_chunk(self, ctx: RequestContext, body: pb.HttpBody) -> pb.ProcessingResponse:
        json_tap = ctx.json_tap
        assert json_tap is not None
        if json_tap.feed(body.body, body.end_of_stream):
            ctx.usage = json_tap.usage if ctx.status == 200 else None
            self._finish(ctx)
        return _CONTINUE_RESPONSE_BODY

    def _finish(self, ctx: RequestContext) -> None:
        if ctx.finished or ctx.principal is None:
            return
        now = time.perf_counter()
        cost = ctx.price_usage()
        record = ctx.to_record(now)
        ctx.finished = True
        self._sink(record)
        self._observe(record, ctx.overhead + now - ctx.callback_started)
        if ctx.budget_reservation is not None:
            self._budgets.settle(ctx.budget_reservation, cost)
        if ctx.reservation is not None:
            reserved = ctx.reservation.tokens
            self._limiter.settle(ctx.reservation, settle_delta(reserved, ctx.actual_tokens()))
