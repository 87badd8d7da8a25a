"""Building and reading Envoy ext_proc messages: the only place that knows their shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from envoy.config.core.v3 import base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb
from envoy.type.v3 import http_status_pb2
from google.protobuf import struct_pb2

from ext_proc import errors
from omg_common.quota_headers import QUOTA_NAMESPACE

ROUTING_HEADER = "x-omg-deployment"
FILTER_NAME = "envoy.filters.http.ext_proc"  # the key Envoy files attributes under
# Listed in the filter's response_attributes (envoy/bootstrap.yaml).
STATUS_ATTRIBUTE = "response.code"
ATTEMPTS_ATTRIBUTE = "upstream.request_attempt_count"
# The deployment id in the metadata of the endpoint that answered (fail-over clusters only).
SERVED_ATTRIBUTE = "xds.upstream_host_metadata.filter_metadata['omg']['deployment_id']"


@dataclass(frozen=True, slots=True)
class ResponseFacts:
    status: int
    attempts: int  # 0: not known
    served_deployment_id: str  # "": the deployment ext_proc picked


_JSON_HEADERS = pb.HeaderMutation(
    set_headers=[
        base_pb2.HeaderValueOption(
            header=base_pb2.HeaderValue(key="content-type", raw_value=b"application/json")
        )
    ]
)


def http_headers(*pairs: tuple[str, str], end: bool = False) -> pb.HttpHeaders:
    """Headers as Envoy sends them (values in raw_value): for tests and load drivers."""
    values = [base_pb2.HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs]
    return pb.HttpHeaders(headers=base_pb2.HeaderMap(headers=values), end_of_stream=end)


def header_values(headers: pb.HttpHeaders) -> dict[str, str]:
    # Envoy puts values in raw_value (bytes); `value` stays empty.
    return {h.key: h.raw_value.decode("latin-1") for h in headers.headers.headers}


def _error_headers(err: errors.GatewayError) -> pb.HeaderMutation:
    if not err.headers:
        return _JSON_HEADERS
    extra = [header_option(k, v) for k, v in err.headers]
    return pb.HeaderMutation(set_headers=[*_JSON_HEADERS.set_headers, *extra])


def immediate(err: errors.GatewayError) -> pb.ProcessingResponse:
    return pb.ProcessingResponse(
        immediate_response=pb.ImmediateResponse(
            status=http_status_pb2.HttpStatus(code=err.status),  # type: ignore[arg-type]
            headers=_error_headers(err),
            body=err.body(),
            details=f"omg_{err.code or err.type}",
        )
    )


def json_reply(body: bytes) -> pb.ProcessingResponse:
    return pb.ProcessingResponse(
        immediate_response=pb.ImmediateResponse(
            status=http_status_pb2.HttpStatus(code=200),  # type: ignore[arg-type]
            headers=_JSON_HEADERS,
            body=body,
        )
    )


def header_option(key: str, value: str) -> base_pb2.HeaderValueOption:
    return base_pb2.HeaderValueOption(
        header=base_pb2.HeaderValue(key=key, raw_value=value.encode()),
        append_action=base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD,
    )


def _attribute(fields: Any, name: str) -> str:
    if name not in fields:
        return ""
    value = fields[name]
    if value.HasField("string_value"):
        return value.string_value
    if value.HasField("number_value"):
        return str(int(value.number_value))
    return ""


def response_facts(request: pb.ProcessingRequest) -> ResponseFacts:
    """What Envoy attaches to the first response-body message as attributes (response
    headers are skipped): the status, the upstream attempts and the endpoint that answered."""
    if FILTER_NAME not in request.attributes:
        return ResponseFacts(0, 0, "")
    fields = request.attributes[FILTER_NAME].fields
    status = _attribute(fields, STATUS_ATTRIBUTE)
    attempts = _attribute(fields, ATTEMPTS_ATTRIBUTE)
    return ResponseFacts(int(status) if status.isdigit() else 0,
                         int(attempts) if attempts.isdigit() else 0,
                         _attribute(fields, SERVED_ATTRIBUTE))


def with_quota_metadata(
    response: pb.ProcessingResponse, headers: tuple[tuple[str, str], ...]
) -> pb.ProcessingResponse:
    """Hands the x-ratelimit-* values to the route table, which adds them to the response."""
    values = struct_pb2.Struct()
    values.update(dict(headers))
    response.dynamic_metadata.fields[QUOTA_NAMESPACE].struct_value.CopyFrom(values)
    return response
