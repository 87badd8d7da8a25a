"""Pure builders: gateway deployments -> Envoy clusters and the route table.

Every deployment gets a cluster and a route. ext_proc picks the deployment and names it in
the `x-omg-deployment` header; the route rewrites path and host for that upstream.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.route.v3 import route_pb2
from envoy.extensions.filters.http.ext_proc.v3 import ext_proc_pb2  # noqa: F401 (Any types)
from envoy.extensions.filters.http.upstream_codec.v3 import upstream_codec_pb2  # noqa: F401
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2  # noqa: F401
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2  # noqa: F401
from google.protobuf import json_format

from control_plane.config_state import base_url_parts
from omg_common.providers import is_translated
from omg_common.quota_headers import QUOTA_HEADER_NAMES, QUOTA_NAMESPACE
from protos import config_pb2

CLUSTER_TYPE = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
ROUTE_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
ROUTE_CONFIG_NAME = "omg_routes"
ROUTING_HEADER = "x-omg-deployment"
TLS_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
EXT_PROC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor"
CODEC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec"
EXT_PROC_CLUSTER = "ext_proc"
UPSTREAM_PHASE = {"key": "x-omg-phase", "value": "upstream"}

NOT_ROUTED_BODY = (
    '{"error":{"message":"No route for this request.","type":"invalid_request_error",'
    '"param":null,"code":"unknown_url"}}'
)


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


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
        cluster["typed_extension_protocol_options"] = {PROTOCOL_OPTIONS: translating_options()}
    if dep.options.get("health_check_path"):
        cluster["health_checks"] = [active_health_check(dep)]
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


def translating_options() -> dict[str, Any]:
    """Upstream HTTP filters: ext_proc translates and signs each attempt for this provider."""
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


def build_clusters(deployments: Iterable[config_pb2.Deployment]) -> list[cluster_pb2.Cluster]:
    return [json_format.ParseDict(cluster_dict(d), cluster_pb2.Cluster()) for d in deployments]


def build_route_config(
    deployments: Iterable[config_pb2.Deployment],
) -> route_pb2.RouteConfiguration:
    routes = [route_dict(d) for d in sorted(deployments, key=lambda d: d.id)]
    config = {
        "name": ROUTE_CONFIG_NAME,
        "virtual_hosts": [{"name": "omg", "domains": ["*"], "routes": [*routes, not_routed()]}],
        "response_headers_to_add": quota_headers_to_add(),
    }
    return json_format.ParseDict(config, route_pb2.RouteConfiguration())
