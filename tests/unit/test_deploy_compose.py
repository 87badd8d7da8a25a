"""docker-compose.yml checked statically (no Docker engine here): pinned images, existing
files, ports that agree with the settings, Prometheus and Grafana wiring."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from tests.unit.deploy_support import ROOT, command_exists, is_pinned, unknown_settings

COMPOSE = ROOT / "docker-compose.yml"
EXPECTED = {"envoy", "ext-proc", "control-plane", "postgres", "redis", "prometheus", "grafana",
            "otel-collector"}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text())["services"])


def container_ports(service: dict[str, Any]) -> set[int]:
    published = {int(str(p).rsplit(":", 1)[-1]) for p in service.get("ports", [])}
    return published | {int(p) for p in service.get("expose", [])}


def bind_mounts(service: dict[str, Any]) -> list[tuple[Path, str]]:
    mounts = [str(v).split(":") for v in service.get("volumes", [])]
    return [(ROOT / m[0], m[1]) for m in mounts if m[0].startswith("./")]


def test_the_file_follows_the_compose_spec() -> None:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(COMPOSE.read_text()))]
    assert not errors
    broken = {"services": {"envoy": {"image": "x:1", "prots": ["8080:8080"]}}}
    assert list(validator.iter_errors(broken))  # the schema does reject a misspelt key


def test_the_topology_is_complete(services: dict[str, Any]) -> None:
    assert services.keys() >= EXPECTED
    assert services["ext-proc"]["deploy"]["replicas"] == 2


def test_images_are_pinned_and_builds_named(services: dict[str, Any]) -> None:
    for name, service in services.items():
        assert "image" in service, f"{name} has no image"
        assert is_pinned(service["image"]), f"{name}: {service['image']} is not pinned"
    dockerfile_from = (ROOT / "Dockerfile").read_text().split("FROM ", 1)[1].split()[0]
    assert is_pinned(dockerfile_from) and dockerfile_from.count(".") >= 2  # exact patch


def test_references_resolve(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dependency in service.get("depends_on", []):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for path, _ in bind_mounts(service):
            assert path.exists(), f"{name} mounts missing {path}"
        if "command" in service and "build" in service:
            assert command_exists(service["command"]), f"{name}: {service['command']}"


def test_settings_and_ports_agree(services: dict[str, Any]) -> None:
    env = services["control-plane"]["environment"]
    for name, service in services.items():
        assert not unknown_settings(service.get("environment", {})), name
    assert int(env["OMG_ADMIN_PORT"]) in container_ports(services["control-plane"])
    assert int(env["OMG_XDS_PORT"]) in container_ports(services["control-plane"])
    for port in ("OMG_EXT_PROC_PORT", "OMG_EXT_PROC_METRICS_PORT"):
        assert int(env[port]) in container_ports(services["ext-proc"])
    envoy = services["envoy"]["environment"]
    assert {int(envoy["OMG_LISTEN_PORT"]), int(envoy["OMG_ENVOY_ADMIN_PORT"])} <= \
        container_ports(services["envoy"])
    host, port = envoy["OMG_EXT_PROC_TARGETS"].split(":")
    assert host in services and int(port) == int(env["OMG_EXT_PROC_PORT"])
    assert env["OMG_CONTROL_PLANE_HOST"] in services
    assert env["OMG_MOCK_HOST"] in services


def test_prometheus_scrapes_every_component(services: dict[str, Any]) -> None:
    [(config_path, _)] = bind_mounts(services["prometheus"])[:1]
    jobs = {job["job_name"]: job for job in yaml.safe_load(config_path.read_text())
            ["scrape_configs"]}
    assert {"ext-proc", "control-plane", "envoy"} <= jobs.keys()
    assert jobs["envoy"]["metrics_path"] == "/stats/prometheus"
    for job in jobs.values():
        targets = [t for c in job.get("static_configs", []) for t in c["targets"]]
        targets += [f"{n}:{c['port']}" for c in job.get("dns_sd_configs", []) for n in c["names"]]
        for target in targets:
            host, port = target.split(":")
            assert host in services, f"{job['job_name']} scrapes unknown {host}"
            assert int(port) in container_ports(services[host]), target


def test_grafana_provisioning_matches_the_dashboards(services: dict[str, Any]) -> None:
    mounts = dict((target, path) for path, target in bind_mounts(services["grafana"]))
    provisioning = mounts["/etc/grafana/provisioning"]
    [datasource] = yaml.safe_load(
        (provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert urlsplit(datasource["url"]).hostname in services
    [provider] = yaml.safe_load((provisioning / "dashboards" / "omg.yml").read_text())["providers"]
    dashboards = mounts[provider["options"]["path"]]
    files = sorted(dashboards.glob("*.json"))
    assert len(files) >= 4
    uids = [json.loads(f.read_text())["uid"] for f in files]
    assert len(set(uids)) == len(uids)
    for path in files:
        text = path.read_text()
        assert '"uid": "prometheus"' in text and datasource["uid"] == "prometheus"


def test_otlp_goes_to_the_collector(services: dict[str, Any]) -> None:
    endpoint = urlsplit(services["ext-proc"]["environment"]["OMG_OTLP_ENDPOINT"])
    assert endpoint.hostname in services and endpoint.port in container_ports(
        services[str(endpoint.hostname)])
    [(config_path, _)] = bind_mounts(services["otel-collector"])
    config = yaml.safe_load(config_path.read_text())
    http = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert int(http.rsplit(":", 1)[1]) == endpoint.port
    for pipeline in config["service"]["pipelines"].values():
        assert set(pipeline["receivers"]) <= config["receivers"].keys()
        assert set(pipeline["exporters"]) <= config["exporters"].keys()
