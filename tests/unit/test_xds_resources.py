"""Unit tests of the xDS builders (clusters, route table) and the snapshot cache."""

from __future__ import annotations

import asyncio

import pytest
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.route.v3 import route_pb2
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2

from control_plane.config_state import GatewayState, cluster_name
from control_plane.xds import failover, resources
from control_plane.xds.cache import (
    InconsistentSnapshot,
    XdsCache,
    XdsSnapshot,
    check_consistent,
    content_version,
    route_clusters,
    snapshot_from_resources,
    snapshot_from_state,
)
from control_plane.xds.resources import (
    CLUSTER_TYPE,
    ROUTE_CONFIG_NAME,
    ROUTE_TYPE,
    ROUTING_HEADER,
    build_clusters,
    build_route_config,
)
from protos import config_pb2


def dep(
    id_: str, base_url: str, timeout_s: float = 0.0, provider: str = "openai", model: str = "",
) -> config_pb2.Deployment:
    """A deployment that is its model's only one, unless `model` names a shared model."""
    return config_pb2.Deployment(
        id=id_, model=model or f"m-{id_}", base_url=base_url, timeout_s=timeout_s,
        cluster=cluster_name(id_), provider=provider,
    )


def one_cluster(base_url: str) -> cluster_pb2.Cluster:
    (cluster,) = build_clusters([dep("d1", base_url)])
    return cluster


def socket_address(cluster: cluster_pb2.Cluster) -> tuple[str, int]:
    (locality,) = cluster.load_assignment.endpoints
    (lb_endpoint,) = locality.lb_endpoints
    addr = lb_endpoint.endpoint.address.socket_address
    return addr.address, addr.port_value


def routes_of(config: route_pb2.RouteConfiguration) -> list[route_pb2.Route]:
    (vhost,) = config.virtual_hosts
    return list(vhost.routes)


def one_route(base_url: str, timeout_s: float = 0.0) -> route_pb2.Route:
    first, _ = routes_of(build_route_config([dep("d1", base_url, timeout_s)]))
    return first


def gateway_state(*deps: config_pb2.Deployment) -> GatewayState:
    return GatewayState({}, {d.id: d for d in deps}, {})


# --- clusters ----------------------------------------------------------------------------------


def test_cluster_for_ip_host_is_static() -> None:
    cluster = one_cluster("http://127.0.0.1:9000/v1")
    assert cluster.name == "omg_dep_d1"
    assert cluster.type == cluster_pb2.Cluster.STATIC
    assert cluster.load_assignment.cluster_name == "omg_dep_d1"
    assert socket_address(cluster) == ("127.0.0.1", 9000)
    assert not cluster.HasField("transport_socket")


def test_cluster_for_dns_name_is_strict_dns() -> None:
    cluster = one_cluster("http://upstream.internal/v1")
    assert cluster.type == cluster_pb2.Cluster.STRICT_DNS
    assert socket_address(cluster) == ("upstream.internal", 80)


def test_cluster_for_https_has_tls_with_sni() -> None:
    cluster = one_cluster("https://api.example.com/v1")
    assert cluster.type == cluster_pb2.Cluster.STRICT_DNS
    assert socket_address(cluster) == ("api.example.com", 443)
    assert cluster.transport_socket.name == "envoy.transport_sockets.tls"
    tls = tls_pb2.UpstreamTlsContext()
    assert cluster.transport_socket.typed_config.Unpack(tls)
    assert tls.sni == "api.example.com"


def test_build_clusters_one_per_deployment() -> None:
    clusters = build_clusters([dep("a", "http://a/v1"), dep("b", "https://b:8443/v1")])
    assert [c.name for c in clusters] == ["omg_dep_a", "omg_dep_b"]
    assert socket_address(clusters[1]) == ("b", 8443)


# --- routes ------------------------------------------------------------------------------------


def test_route_matches_routing_header_exactly() -> None:
    route = one_route("http://h:1/openai/v1")
    assert route.name == "d1"
    assert route.match.prefix == "/v1/"
    (header,) = route.match.headers
    assert header.name == ROUTING_HEADER == "x-omg-deployment"
    assert header.string_match.exact == "d1"
    assert route.route.cluster == "omg_dep_d1"
    assert list(route.request_headers_to_remove) == [ROUTING_HEADER]


def test_route_prefix_rewrite_from_base_url_path() -> None:
    assert one_route("http://h:1/openai/v1").route.prefix_rewrite == "/openai/v1/"
    assert one_route("http://h:1/openai/v1/").route.prefix_rewrite == "/openai/v1/"
    assert one_route("https://api.example.com/v1").route.prefix_rewrite == "/v1/"


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("http://h:1/openai/v1", "h:1"),
        ("http://h:80/v1", "h"),
        ("http://h/v1", "h"),
        ("https://api.example.com/v1", "api.example.com"),
        ("https://api.example.com:443/v1", "api.example.com"),
        ("https://api.example.com:8443/v1", "api.example.com:8443"),
        ("http://127.0.0.1:9000/v1", "127.0.0.1:9000"),
    ],
)
def test_route_host_rewrite(base_url: str, host: str) -> None:
    assert one_route(base_url).route.host_rewrite_literal == host


@pytest.mark.parametrize(
    ("base_url", "host"),
    [("http://[::1]:8080/v1", "[::1]:8080"), ("http://[::1]/v1", "[::1]")],
)
def test_route_host_rewrite_ipv6_is_bracketed(base_url: str, host: str) -> None:
    assert one_route(base_url).route.host_rewrite_literal == host


def test_route_timeout() -> None:
    assert one_route("http://h/v1", 12.5).route.timeout.ToMilliseconds() == 12_500
    assert one_route("http://h/v1").route.timeout.seconds == 600


def test_route_config_one_route_per_deployment_then_catch_all() -> None:
    config = build_route_config(
        [dep("zeta", "http://z/v1"), dep("alpha", "http://a/v1"), dep("mid", "http://m/v1")]
    )
    assert config.name == ROUTE_CONFIG_NAME
    (vhost,) = config.virtual_hosts
    assert list(vhost.domains) == ["*"]
    routes = routes_of(config)
    assert [r.name for r in routes] == ["alpha", "mid", "zeta", "not_routed"]
    assert [r.route.cluster for r in routes[:3]] == [
        "omg_dep_alpha", "omg_dep_mid", "omg_dep_zeta"
    ]
    last = routes[-1]
    assert last.match.prefix == "/"
    assert not last.HasField("route")
    assert last.direct_response.status == 404
    assert '"code":"unknown_url"' in last.direct_response.body.inline_string
    (added,) = last.response_headers_to_add
    assert (added.header.key, added.header.value) == ("content-type", "application/json")


def test_route_config_without_deployments_has_only_catch_all() -> None:
    assert [r.name for r in routes_of(build_route_config([]))] == ["not_routed"]


# --- cache: consistency, versions, snapshots ------------------------------------------------


def test_route_clusters_ignores_direct_response() -> None:
    config = build_route_config([dep("a", "http://a/v1"), dep("b", "http://b/v1")])
    assert route_clusters(config) == {"omg_dep_a", "omg_dep_b"}


def test_check_consistent_accepts_matching_snapshot() -> None:
    deps = [dep("a", "http://a/v1"), dep("b", "https://b/v1")]
    check_consistent(snapshot_from_resources(build_clusters(deps), [build_route_config(deps)]))


def test_check_consistent_rejects_route_to_missing_cluster() -> None:
    deps = [dep("a", "http://a/v1"), dep("b", "https://b/v1")]
    snapshot = snapshot_from_resources(build_clusters(deps[:1]), [build_route_config(deps)])
    with pytest.raises(InconsistentSnapshot, match="omg_dep_b"):
        check_consistent(snapshot)


def test_content_version_stable_and_sensitive() -> None:
    def res(url: str) -> dict[str, dict[str, object]]:
        deps = [dep("a", url), dep("b", "http://b/v1")]
        return {
            CLUSTER_TYPE: {c.name: c for c in build_clusters(deps)},
            ROUTE_TYPE: {ROUTE_CONFIG_NAME: build_route_config(deps)},
        }

    first = content_version(res("http://a:1/v1"))
    assert first == content_version(res("http://a:1/v1"))
    assert len(first) == 16
    assert first != content_version(res("http://a:2/v1"))
    assert first != content_version(res("http://a:1/v2"))
    assert content_version({}) != first


def test_content_version_independent_of_insertion_order() -> None:
    deps = [dep("a", "http://a/v1"), dep("b", "http://b/v1")]
    clusters = build_clusters(deps)
    forward = {CLUSTER_TYPE: {c.name: c for c in clusters}}
    backward = {CLUSTER_TYPE: {c.name: c for c in reversed(clusters)}}
    assert content_version(forward) == content_version(backward)


def test_snapshot_from_state() -> None:
    snap = snapshot_from_state(
        gateway_state(dep("a", "http://a/v1"), dep("b", "https://b:8443/v1"))
    )
    assert set(snap.resources[CLUSTER_TYPE]) == {"omg_dep_a", "omg_dep_b"}
    assert set(snap.resources[ROUTE_TYPE]) == {ROUTE_CONFIG_NAME}
    check_consistent(snap)
    assert snap.version == content_version(snap.resources)
    same = snapshot_from_state(
        gateway_state(dep("b", "https://b:8443/v1"), dep("a", "http://a/v1"))
    )
    assert same.version == snap.version
    other = snapshot_from_state(gateway_state(dep("a", "http://a/v1")))
    assert other.version != snap.version


def test_snapshot_named() -> None:
    snap = snapshot_from_state(gateway_state(dep("a", "http://a/v1"), dep("b", "http://b/v1")))
    assert [c.name for c in snap.named(CLUSTER_TYPE, ["omg_dep_b", "missing"])] == ["omg_dep_b"]
    assert len(snap.named(CLUSTER_TYPE, [])) == 2
    assert snap.named("type.googleapis.com/unknown", []) == []


async def test_cache_publish_rejects_inconsistent_snapshot() -> None:
    cache = XdsCache()
    good = snapshot_from_state(gateway_state(dep("a", "http://a/v1")))
    await cache.publish(good)
    assert cache.snapshot is good
    deps = [dep("a", "http://a/v1"), dep("b", "http://b/v1")]
    bad = snapshot_from_resources(build_clusters(deps[:1]), [build_route_config(deps)])
    with pytest.raises(InconsistentSnapshot):
        await cache.publish(bad)
    assert cache.snapshot is good


async def test_cache_publish_same_version_is_noop_and_wait_newer() -> None:
    cache = XdsCache()
    first = snapshot_from_state(gateway_state(dep("a", "http://a/v1")))
    await cache.publish(first)
    await cache.publish(XdsSnapshot(first.version, dict(first.resources)))
    assert cache.snapshot is first

    waiter = asyncio.create_task(cache.wait_newer(first.version))
    await asyncio.sleep(0)
    assert not waiter.done()
    second = snapshot_from_state(gateway_state(dep("b", "http://b/v1")))
    await cache.publish(second)
    assert await asyncio.wait_for(waiter, 1) is second
    assert await asyncio.wait_for(cache.wait_newer(""), 1) is second


def test_resources_type_urls() -> None:
    assert resources.CLUSTER_TYPE.endswith(cluster_pb2.Cluster.DESCRIPTOR.full_name)
    assert resources.ROUTE_TYPE.endswith(route_pb2.RouteConfiguration.DESCRIPTOR.full_name)


def test_passthrough_cluster_has_no_upstream_filters() -> None:
    (cluster,) = build_clusters([dep("d1", "https://api.openai.com/v1")])
    assert not cluster.typed_extension_protocol_options


def test_translated_cluster_runs_upstream_ext_proc_then_codec() -> None:
    from envoy.extensions.filters.http.ext_proc.v3 import ext_proc_pb2
    from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2

    (cluster,) = build_clusters([dep("d1", "https://api.anthropic.com", provider="anthropic")])
    options = http_protocol_options_pb2.HttpProtocolOptions()
    packed = cluster.typed_extension_protocol_options[
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert packed.Unpack(options)
    names = [f.name for f in options.http_filters]
    assert names == ["envoy.filters.http.ext_proc", "envoy.filters.http.upstream_codec"]
    ext_proc = ext_proc_pb2.ExternalProcessor()
    assert options.http_filters[0].typed_config.Unpack(ext_proc)
    metadata = [(m.key, m.value) for m in ext_proc.grpc_service.initial_metadata]
    assert metadata == [("x-omg-phase", "upstream")]
    assert ext_proc.mutation_rules.allow_all_routing.value is True
    assert ext_proc.allow_mode_override is True


def test_translated_route_keeps_routing_header_and_path() -> None:
    route = build_route_config([dep("d1", "https://api.anthropic.com/x", provider="anthropic")])
    first = route.virtual_hosts[0].routes[0]
    assert list(first.request_headers_to_remove) == []
    assert first.route.prefix_rewrite == ""
    assert first.route.host_rewrite_literal == "api.anthropic.com"


def test_health_check_only_when_a_path_is_configured() -> None:
    plain = dep("d1", "http://10.0.0.5:8000/v1", provider="cerebras")
    (cluster,) = build_clusters([plain])
    assert not cluster.health_checks
    checked = dep("d2", "http://10.0.0.5:8000/v1", provider="cerebras")
    checked.options["health_check_path"] = "/health"
    (cluster,) = build_clusters([checked])
    [check] = cluster.health_checks
    assert check.http_health_check.path == "/health"
    assert check.http_health_check.host == "10.0.0.5:8000"


# --- models served by several deployments: one cluster, fail-over route ----------------------


def shared_model() -> list[config_pb2.Deployment]:
    primary_a = dep("a", "http://10.0.0.1:8000/v1", timeout_s=5, model="shared")
    primary_a.weight = 3
    primary_b = dep("b", "http://10.0.0.2:8000/v1", timeout_s=2, model="shared")
    backup = dep("c", "https://api.anthropic.com", provider="anthropic", model="shared")
    backup.priority = 7
    backup.options["outlier_consecutive_5xx"] = "9"
    primary_b.weight = backup.weight = 1
    return [primary_a, primary_b, backup]


def model_cluster() -> cluster_pb2.Cluster:
    (cluster,) = build_clusters(shared_model())
    return cluster


def test_shared_model_is_one_cluster_with_an_endpoint_per_deployment() -> None:
    cluster = model_cluster()
    assert cluster.name == failover.model_cluster_name("shared")
    tiers = [(g.priority, [(e.endpoint.address.socket_address.address, e.load_balancing_weight
                            .value) for e in g.lb_endpoints])
             for g in cluster.load_assignment.endpoints]
    assert tiers == [(0, [("10.0.0.1", 3), ("10.0.0.2", 1)]), (1, [("api.anthropic.com", 1)])]
    ids = [e.metadata.filter_metadata["omg"]["deployment_id"]
           for g in cluster.load_assignment.endpoints for e in g.lb_endpoints]
    assert ids == ["a", "b", "c"]
    assert cluster.type == cluster_pb2.Cluster.STRICT_DNS  # one host is a name


def test_shared_model_cluster_names_the_endpoint_before_ext_proc() -> None:
    from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2

    options = http_protocol_options_pb2.HttpProtocolOptions()
    assert model_cluster().typed_extension_protocol_options[resources.PROTOCOL_OPTIONS].Unpack(
        options)
    assert [f.name for f in options.http_filters] == [
        "envoy.filters.http.header_mutation", "envoy.filters.http.ext_proc",
        "envoy.filters.http.upstream_codec"]


def test_shared_model_cluster_protection_and_tls_per_endpoint() -> None:
    cluster = model_cluster()
    assert cluster.common_lb_config.healthy_panic_threshold.value == 0
    assert cluster.outlier_detection.consecutive_5xx.value == 5  # the primary's (default)
    assert cluster.outlier_detection.enforcing_consecutive_gateway_failure.value == 100
    assert cluster.circuit_breakers.thresholds[0].max_retries.value == 256
    (match,) = cluster.transport_socket_matches
    assert dict(match.match) == {"deployment": "c"}
    tls = tls_pb2.UpstreamTlsContext()
    assert match.transport_socket.typed_config.Unpack(tls) and tls.sni == "api.anthropic.com"
    backup = cluster.load_assignment.endpoints[1].lb_endpoints[0]
    assert backup.metadata.filter_metadata["envoy.transport_socket_match"]["deployment"] == "c"


def test_fail_over_route_retries_onto_the_next_priority() -> None:
    config = build_route_config(shared_model())
    (route,) = [r for r in routes_of(config) if r.name != "not_routed"]
    assert route.match.headers[0].string_match.exact == failover.model_cluster_name("shared")
    policy = route.route.retry_policy
    assert policy.retry_on == failover.DEFAULT_RETRY_ON
    assert list(policy.retriable_status_codes) == [429]
    assert policy.num_retries.value == 2  # one per other deployment
    assert policy.per_try_timeout.seconds == 5  # the best tier's longest timeout
    assert policy.retry_priority.name == "envoy.retry_priorities.previous_priorities"
    assert policy.retry_host_predicate[0].name == "envoy.retry_host_predicates.previous_hosts"
    assert route.route.timeout.seconds == 15
    assert list(route.request_headers_to_remove) == [ROUTING_HEADER]
    assert not config.virtual_hosts[0].include_attempt_count_in_response  # an attribute now


def test_model_settings_override_retry_conditions_and_count() -> None:
    model = config_pb2.Model(name="shared", retry_on="5xx", num_retries=1)
    config = build_route_config(shared_model(), {"shared": model})
    (route,) = [r for r in routes_of(config) if r.name != "not_routed"]
    assert route.route.retry_policy.retry_on == "5xx"
    assert route.route.retry_policy.num_retries.value == 1


def test_shared_health_check_only_when_every_deployment_has_the_same_path() -> None:
    deps = shared_model()
    for d in deps[:2]:
        d.options["health_check_path"] = "/health"
    assert not build_clusters(deps)[0].health_checks
    deps[2].options["health_check_path"] = "/health"
    [check] = build_clusters(deps)[0].health_checks
    assert check.http_health_check.path == "/health"


def test_lone_deployment_gets_outlier_detection_only_when_asked() -> None:
    plain = dep("d1", "http://10.0.0.5:8000/v1")
    assert not build_clusters([plain])[0].HasField("outlier_detection")
    plain.options["outlier_consecutive_5xx"] = "2"
    (cluster,) = build_clusters([plain])
    assert cluster.outlier_detection.consecutive_5xx.value == 2
    assert cluster.circuit_breakers.thresholds[0].max_connections.value == 1024


def test_weight_zero_deployments_are_a_last_resort_in_their_tier() -> None:
    deps = shared_model()
    deps[1].weight = 0
    (cluster,) = build_clusters(deps)
    first_tier = cluster.load_assignment.endpoints[0].lb_endpoints
    assert [e.endpoint.address.socket_address.address for e in first_tier] == ["10.0.0.1"]
