"""Pure builders: gateway deployments -> Envoy clusters and the route table.

A model with one enabled deployment gets that deployment's cluster and route: ext_proc names
the deployment in the `x-omg-deployment` header; the route rewrites path and host for it.
A model with several gets one cluster and route of its own, with fail-over (see `failover`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.route.v3 import route_pb2
from envoy.extensions.filters.http.ext_proc.v3 import ext_proc_pb2  # noqa: F401 (Any types)
from envoy.extensions.filters.http.header_mutation.v3 import header_mutation_pb2  # noqa: F401
from envoy.extensions.filters.http.upstream_codec.v3 import upstream_codec_pb2  # noqa: F401
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2  # noqa: F401
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2  # noqa: F401
from google.protobuf import json_format

from control_plane.config_state import base_url_parts, is_ip
from control_plane.xds import failover
from control_plane.xds.protection import (
    circuit_breakers,
    outlier_detection,
    wants_outlier_detection,
)
from omg_common.providers import is_translated
from omg_common.quota_headers import QUOTA_HEADER_NAMES, QUOTA_NAMESPACE
from omg_common.routing_names import ENDPOINT_HEADER, ENDPOINT_METADATA
from protos import config_pb2

CLUSTER_TYPE = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
ROUTE_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
ROUTE_CONFIG_NAME = "omg_routes"
ROUTING_HEADER = "x-omg-deployment"
TLS_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
EXT_PROC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor"
HEADER_MUTATION_TYPE = (
    "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation")
CODEC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec"
EXT_PROC_CLUSTER = "ext_proc"
UPSTREAM_PHASE = {"key": "x-omg-phase", "value": "upstream"}

NOT_ROUTED_BODY = (
    '{"error":{"message":"No route for this request.","type":"invalid_request_error",'
    '"param":null,"code":"unknown_url"}}'
)


def cluster_dict(dep: config_pb2.Deployment) -> dict[str, Any]:
    scheme, host, port, _ = base_url_parts(dep.base_url)
    cluster: dict[str, Any] = {
        "name": dep.cluster,
        "connect_timeout": "5s",
        "type": "STATIC" if is_ip(host) else "STRICT_DNS",
        "dns_lookup_family": "V4_PREFERRED",
        "load_assignment": {
            "cluster_name": dep.cluster,
            "endpoints": [
                {"lb_endpoints": [{"endpoint": {"address": {
                    "socket_address": {"address": host, "port_value": port}
                }}}]}
            ],
        },
    }
    if scheme == "https":
        cluster["transport_socket"] = {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {"@type": TLS_TYPE, "sni": host},
        }
    if is_translated(dep.provider):
        cluster["typed_extension_protocol_options"] = upstream_options()
    if dep.options.get("health_check_path"):
        cluster["health_checks"] = [active_health_check(dep)]
    cluster["circuit_breakers"] = circuit_breakers(dep.options)
    if wants_outlier_detection(dep.options):
        cluster["outlier_detection"] = outlier_detection(dep.options)
    cluster["common_lb_config"] = {"healthy_panic_threshold": {"value": 0}}
    return cluster


def active_health_check(dep: config_pb2.Deployment) -> dict[str, Any]:
    """Envoy probes the upstream itself (e.g. an on-prem Cerebras cluster's health URL)."""
    return {
        "timeout": "2s",
        "interval": dep.options.get("health_check_interval", "10s"),
        "unhealthy_threshold": 2,
        "healthy_threshold": 1,
        "http_health_check": {"path": dep.options["health_check_path"],
                              "host": host_header(dep)},
    }


def endpoint_header_filter() -> dict[str, Any]:
    """Names, per attempt, the deployment (endpoint) Envoy picked, from its metadata."""
    namespace, key = ENDPOINT_METADATA
    return {"name": "envoy.filters.http.header_mutation", "typed_config": {
        "@type": HEADER_MUTATION_TYPE,
        "mutations": {"request_mutations": [{"append": {
            "header": {"key": ENDPOINT_HEADER,
                       "value": f"%UPSTREAM_METADATA({namespace}:{key})%"},
            "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
        }}]},
    }}


def translating_options(endpoint_header: bool = False) -> dict[str, Any]:
    """Upstream HTTP filters: ext_proc translates and signs each attempt for this provider
    (with fail-over, for the deployment the attempt landed on: see `endpoint_header_filter`)."""
    ext_proc = {
        "@type": EXT_PROC_TYPE,
        "grpc_service": {"envoy_grpc": {"cluster_name": EXT_PROC_CLUSTER}, "timeout": "10s",
                         "initial_metadata": [UPSTREAM_PHASE]},
        "message_timeout": "10s",
        "failure_mode_allow": False,
        "allow_mode_override": True,
        "processing_mode": {"request_header_mode": "SEND", "request_body_mode": "BUFFERED",
                            "response_header_mode": "SEND", "response_body_mode": "BUFFERED",
                            "request_trailer_mode": "SKIP", "response_trailer_mode": "SKIP"},
        "mutation_rules": {"allow_all_routing": True},
    }
    return {
        "@type": f"type.googleapis.com/{PROTOCOL_OPTIONS}",
        "explicit_http_config": {"http_protocol_options": {}},
        "http_filters": [
            *([endpoint_header_filter()] if endpoint_header else []),
            {"name": "envoy.filters.http.ext_proc", "typed_config": ext_proc},
            {"name": "envoy.filters.http.upstream_codec", "typed_config": {"@type": CODEC_TYPE}},
        ],
    }


def host_header(dep: config_pb2.Deployment) -> str:
    scheme, host, port, _ = base_url_parts(dep.base_url)
    default_port = 443 if scheme == "https" else 80
    if ":" in host:  # IPv6 literal: brackets, as in a URL
        host = f"[{host}]"
    return host if port == default_port else f"{host}:{port}"


def route_dict(dep: config_pb2.Deployment) -> dict[str, Any]:
    _, _, _, prefix = base_url_parts(dep.base_url)
    action: dict[str, Any] = {
        "cluster": dep.cluster,
        "timeout": f"{dep.timeout_s or 600:.3f}s",
        "host_rewrite_literal": host_header(dep),
    }
    route: dict[str, Any] = {
        "name": dep.id,
        "match": {
            "prefix": "/v1/",
            "headers": [{"name": ROUTING_HEADER, "string_match": {"exact": dep.id}}],
        },
        "route": action,
    }
    if not is_translated(dep.provider):
        # Client paths are /v1/...; the base URL already names the upstream's version prefix.
        action["prefix_rewrite"] = f"{prefix}/"
        route["request_headers_to_remove"] = [ROUTING_HEADER]
    # Translated: the upstream-level stream reads the header, sets the path, then drops it.
    return route


def not_routed() -> dict[str, Any]:
    return {
        "name": "not_routed",
        "match": {"prefix": "/"},
        "direct_response": {"status": 404, "body": {"inline_string": NOT_ROUTED_BODY}},
        "response_headers_to_add": [
            {"header": {"key": "content-type", "value": "application/json"}}
        ],
    }


def quota_headers_to_add() -> list[dict[str, Any]]:
    """x-ratelimit-* from the values ext_proc left in dynamic metadata; none when absent."""
    return [
        {"header": {"key": name, "value": f"%DYNAMIC_METADATA({QUOTA_NAMESPACE}:{name})%"},
         "append_action": "OVERWRITE_IF_EXISTS_OR_ADD", "keep_empty_value": False}
        for name in QUOTA_HEADER_NAMES
    ]


Models = Mapping[str, config_pb2.Model]


def by_model(
    deployments: Iterable[config_pb2.Deployment],
) -> dict[str, list[config_pb2.Deployment]]:
    grouped: dict[str, list[config_pb2.Deployment]] = {}
    for dep in sorted(deployments, key=lambda d: d.id):
        grouped.setdefault(dep.model, []).append(dep)
    return grouped


def single_and_shared(
    deployments: Iterable[config_pb2.Deployment],
) -> tuple[list[config_pb2.Deployment], dict[str, list[config_pb2.Deployment]]]:
    """Deployments that are their model's only one, and models served by several."""
    grouped = by_model(deployments)
    single = [deps[0] for deps in grouped.values() if len(deps) == 1]
    return single, {m: deps for m, deps in grouped.items() if len(deps) > 1}


def build_clusters(
    deployments: Iterable[config_pb2.Deployment], models: Models | None = None,
) -> list[cluster_pb2.Cluster]:
    single, shared = single_and_shared(deployments)
    dicts = [cluster_dict(d) for d in single]
    dicts += [failover.model_cluster_dict(m, deps, upstream_options(endpoint_header=True))
              for m, deps in sorted(shared.items())]
    return [json_format.ParseDict(c, cluster_pb2.Cluster()) for c in dicts]


def upstream_options(endpoint_header: bool = False) -> dict[str, Any]:
    return {PROTOCOL_OPTIONS: translating_options(endpoint_header)}


def model_routes(
    shared: Mapping[str, Sequence[config_pb2.Deployment]], models: Models,
) -> list[dict[str, Any]]:
    return [failover.model_route_dict(m, deps, models.get(m), ROUTING_HEADER)
            for m, deps in sorted(shared.items())]


def build_route_config(
    deployments: Iterable[config_pb2.Deployment], models: Models | None = None,
) -> route_pb2.RouteConfiguration:
    single, shared = single_and_shared(deployments)
    routes = [route_dict(d) for d in single] + model_routes(shared, models or {})
    config = {
        "name": ROUTE_CONFIG_NAME,
        "virtual_hosts": [{"name": "omg", "domains": ["*"], "routes": [*routes, not_routed()]}],
        "response_headers_to_add": quota_headers_to_add(),
    }
    return json_format.ParseDict(config, route_pb2.RouteConfiguration())
