"""Envoy's live view of each deployment, read from `/clusters?format=json`."""

from __future__ import annotations

from control_plane.envoy_health import admin_urls, deployment_of, host_states


def host(hostname: str = "", **health: object) -> dict[str, object]:
    return {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 1}},
            "hostname": hostname, "health_status": {"eds_health_status": "HEALTHY", **health}}


CLUSTERS = {"cluster_statuses": [
    {"name": "ext_proc", "host_statuses": [host()]},
    {"name": "omg_dep_solo", "host_statuses": [host(failed_active_health_check=True)]},
    {"name": "omg_model_chat_1234", "host_statuses": [
        host("dep_a.omg.internal", failed_outlier_check=True),
        host("dep_b.omg.internal")]},
]}


def test_each_deployment_gets_its_hosts_state() -> None:
    assert host_states(CLUSTERS) == {
        "solo": "failed_health_check", "dep_a": "ejected", "dep_b": "healthy"}


def test_the_worst_view_of_several_envoys_wins() -> None:
    states = host_states(CLUSTERS)
    healthy_elsewhere = {"cluster_statuses": [
        {"name": "omg_model_chat_1234", "host_statuses": [host("dep_a.omg.internal")]},
        {"name": "omg_dep_solo", "host_statuses": [host(failed_outlier_check=True)]}]}
    host_states(healthy_elsewhere, states)
    assert states["dep_a"] == "ejected" and states["solo"] == "ejected"


def test_camel_case_json_is_read_too() -> None:
    camel = {"clusterStatuses": [{"name": "omg_dep_x", "hostStatuses": [
        {"hostname": "", "healthStatus": {"failedOutlierCheck": True}}]}]}
    assert host_states(camel) == {"x": "ejected"}


def test_names_and_urls() -> None:
    assert deployment_of("omg_dep_abc", "") == "abc"
    assert deployment_of("omg_model_m", "dep_z.omg.internal") == "dep_z"
    assert deployment_of("xds_cluster", "") is None
    assert admin_urls(" http://a:9901, ,http://b:9901 ") == ["http://a:9901", "http://b:9901"]
