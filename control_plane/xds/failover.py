"""Pure builders for a model served by several deployments: one cluster, one route, fail-over.

The model's cluster has one endpoint per deployment: Envoy priority = the rank of the
deployment's priority, load-balancing weight = its weight. Each endpoint carries its
deployment id as metadata; an upstream filter copies it into a header per attempt, so the
upstream-level ext_proc learns which deployment the attempt landed on and translates, renames,
routes (`:path`, `:authority`) and credentials the attempt for it. Retries (`previous_priorities`,
`previous_hosts`) move a failed attempt to the next priority, i.e. another deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from envoy.extensions.retry.host.previous_hosts.v3 import previous_hosts_pb2  # noqa: F401
from envoy.extensions.retry.priority.previous_priorities.v3 import (  # noqa: F401 (Any types)
    previous_priorities_config_pb2,
)

from control_plane.config_state import base_url_parts, is_ip
from control_plane.xds.protection import circuit_breakers, outlier_detection
from omg_common.routing_names import ENDPOINT_METADATA, endpoint_hostname, model_cluster_name
from protos import config_pb2

DEFAULT_RETRY_ON = "connect-failure,reset,5xx,retriable-status-codes"
RETRIABLE_STATUS_CODES = (429,)
TLS_MATCH_KEY = "envoy.transport_socket_match"
TLS_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
PREVIOUS_PRIORITIES = "type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig"  # noqa: E501
PREVIOUS_HOSTS = "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"  # noqa: E501


def tiers(deps: Sequence[config_pb2.Deployment]) -> list[list[config_pb2.Deployment]]:
    """Deployments grouped by priority, best first; weight-0 deployments only as a last resort
    within their tier (as `pick_deployment` does)."""
    by_priority: dict[int, list[config_pb2.Deployment]] = {}
    for dep in sorted(deps, key=lambda d: (d.priority, d.id)):
        by_priority.setdefault(dep.priority, []).append(dep)
    return [[d for d in tier if d.weight > 0] or tier for tier in by_priority.values()]


def lb_endpoint(dep: config_pb2.Deployment) -> dict[str, Any]:
    _, host, port, _ = base_url_parts(dep.base_url)
    endpoint: dict[str, Any] = {
        "endpoint": {
            "address": {"socket_address": {"address": host, "port_value": port}},
            "hostname": endpoint_hostname(dep.id),
            "health_check_config": {"hostname": host},
        },
        "load_balancing_weight": max(dep.weight, 1),
        "metadata": {"filter_metadata": {ENDPOINT_METADATA[0]: {ENDPOINT_METADATA[1]: dep.id}}},
    }
    if dep.base_url.startswith("https"):
        endpoint["metadata"]["filter_metadata"][TLS_MATCH_KEY] = {"deployment": dep.id}
    return endpoint


def load_assignment(name: str, deps: Sequence[config_pb2.Deployment]) -> dict[str, Any]:
    return {
        "cluster_name": name,
        "endpoints": [
            {"priority": rank, "lb_endpoints": [lb_endpoint(d) for d in tier]}
            for rank, tier in enumerate(tiers(deps))
        ],
    }


def tls_matches(deps: Sequence[config_pb2.Deployment]) -> list[dict[str, Any]]:
    """One TLS context per https deployment (its own SNI), chosen by endpoint metadata."""
    matches = []
    for dep in deps:
        scheme, host, _, _ = base_url_parts(dep.base_url)
        if scheme == "https":
            matches.append({
                "name": f"tls_{dep.id}",
                "match": {"deployment": dep.id},
                "transport_socket": {"name": "envoy.transport_sockets.tls",
                                     "typed_config": {"@type": TLS_TYPE, "sni": host}},
            })
    return matches


def shared_health_check(deps: Sequence[config_pb2.Deployment]) -> dict[str, Any] | None:
    """An active health check is per cluster in Envoy: one only when every deployment of the
    model defines the same path (each endpoint is probed with its own host header)."""
    paths = {d.options.get("health_check_path", "") for d in deps}
    if len(paths) != 1 or not (path := paths.pop()):
        return None
    return {
        "timeout": "2s",
        "interval": deps[0].options.get("health_check_interval", "10s"),
        "unhealthy_threshold": 2,
        "healthy_threshold": 1,
        "http_health_check": {"path": path},
    }


def all_ips(deps: Sequence[config_pb2.Deployment]) -> bool:
    return all(is_ip(base_url_parts(d.base_url)[1]) for d in deps)


def primary(deps: Sequence[config_pb2.Deployment]) -> config_pb2.Deployment:
    return tiers(deps)[0][0]


def model_cluster_dict(
    model: str, deps: Sequence[config_pb2.Deployment], upstream_options: dict[str, Any]
) -> dict[str, Any]:
    name = model_cluster_name(model)
    lead = primary(deps)  # per-cluster knobs (outlier detection, breakers) come from it
    cluster: dict[str, Any] = {
        "name": name,
        "connect_timeout": "5s",
        "type": "STATIC" if all_ips(deps) else "STRICT_DNS",
        "dns_lookup_family": "V4_PREFERRED",
        "load_assignment": load_assignment(name, deps),
        "typed_extension_protocol_options": upstream_options,
        "outlier_detection": outlier_detection(lead.options),
        "circuit_breakers": circuit_breakers(lead.options),
        # Ejected or unhealthy deployments are really skipped: no panic routing to them.
        "common_lb_config": {"healthy_panic_threshold": {"value": 0}},
    }
    matches = tls_matches(deps)
    if matches:
        cluster["transport_socket_matches"] = matches
    check = shared_health_check(deps)
    if check is not None:
        cluster["health_checks"] = [check]
    return cluster


def attempt_count(deps: Sequence[config_pb2.Deployment], model: config_pb2.Model | None) -> int:
    if model is not None and model.num_retries > 0:
        return model.num_retries + 1
    return len(deps)


def per_try_timeout_s(deps: Sequence[config_pb2.Deployment]) -> float:
    """Envoy's per-try timeout is per route: the best tier's (longest) timeout bounds every
    attempt, so a stuck primary fails over within its own budget."""
    return max(d.timeout_s or 600.0 for d in tiers(deps)[0])


def retry_policy(
    deps: Sequence[config_pb2.Deployment], model: config_pb2.Model | None
) -> dict[str, Any]:
    retry_on = (model.retry_on if model is not None else "") or DEFAULT_RETRY_ON
    return {
        "retry_on": retry_on,
        "num_retries": attempt_count(deps, model) - 1,
        "per_try_timeout": f"{per_try_timeout_s(deps):.3f}s",
        "retriable_status_codes": list(RETRIABLE_STATUS_CODES),
        "retry_priority": {
            "name": "envoy.retry_priorities.previous_priorities",
            "typed_config": {"@type": PREVIOUS_PRIORITIES, "update_frequency": 1},
        },
        "retry_host_predicate": [{
            "name": "envoy.retry_host_predicates.previous_hosts",
            "typed_config": {"@type": PREVIOUS_HOSTS},
        }],
        "host_selection_retry_max_attempts": "5",
    }


def model_route_dict(
    model: str, deps: Sequence[config_pb2.Deployment], info: config_pb2.Model | None,
    routing_header: str,
) -> dict[str, Any]:
    name = model_cluster_name(model)
    policy = retry_policy(deps, info)
    total = per_try_timeout_s(deps) * (policy["num_retries"] + 1)
    return {
        "name": name,
        "match": {
            "prefix": "/v1/",
            "headers": [{"name": routing_header, "string_match": {"exact": name}}],
        },
        "route": {
            "cluster": name,
            "timeout": f"{total:.3f}s",
            "retry_policy": policy,
        },
        "request_headers_to_remove": [routing_header],
    }
