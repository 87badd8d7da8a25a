"""deploy/k8s checked statically (no cluster here): every manifest parses with a known
kind/apiVersion, selectors match pod labels, referenced ConfigMaps, Secrets, Services and
ports exist, images are pinned, and every container has probes, resources and a locked-down
securityContext."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.unit.deploy_support import ROOT, command_exists, is_pinned, unknown_settings

DEPLOY = ROOT / "deploy"
BASE = DEPLOY / "k8s" / "base"
FOLDERS = (BASE, DEPLOY / "k8s" / "monitoring")
API_VERSIONS = {
    "Namespace": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1",
    "PersistentVolumeClaim": "v1", "ServiceAccount": "v1", "Deployment": "apps/v1",
    "StatefulSet": "apps/v1", "PodDisruptionBudget": "policy/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2", "Role": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1",
}
WORKLOADS = ("Deployment", "StatefulSet")
OWN_IMAGE = "open-model-gateway"


def kustomization_of(folder: Path) -> dict[str, Any]:
    return dict(yaml.safe_load((folder / "kustomization.yaml").read_text()))


@pytest.fixture(scope="module")
def kustomization() -> dict[str, Any]:
    return kustomization_of(BASE)


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    """deploy/kustomization.yaml: base + monitoring + generated ConfigMaps."""
    return kustomization_of(DEPLOY)


@pytest.fixture(scope="module")
def objects(stack: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for folder in FOLDERS:
        for name in kustomization_of(folder)["resources"]:
            found.extend(doc for doc in yaml.safe_load_all((folder / name).read_text()) if doc)
    for generator in stack["configMapGenerator"]:  # as kustomize would generate them
        found.append({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": generator["name"]}, "data": {}})
    return found


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def pod_specs(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind in WORKLOADS:
        for name, workload in by_kind(objects, kind).items():
            yield name, workload["spec"]["template"]["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def example_secret() -> dict[str, Any]:
    return dict(yaml.safe_load((BASE / "secret.example.yaml").read_text()))


def test_every_manifest_is_listed_and_known(
    stack: dict[str, Any], objects: list[dict[str, Any]]
) -> None:
    assert [DEPLOY / r for r in stack["resources"]] == list(FOLDERS)
    for folder in FOLDERS:
        listed = set(kustomization_of(folder)["resources"])
        on_disk = {p.name for p in folder.glob("*.yaml")} - {"kustomization.yaml",
                                                               "secret.example.yaml"}
        assert listed == on_disk, folder
    for obj in objects:
        assert API_VERSIONS.get(obj["kind"]) == obj["apiVersion"], obj["kind"]
        assert obj["metadata"]["name"]
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget",
            "HorizontalPodAutoscaler"} <= {o["kind"] for o in objects}


def test_selectors_match_their_pods(objects: list[dict[str, Any]]) -> None:
    pod_labels = [w["spec"]["template"]["metadata"]["labels"]
                  for kind in WORKLOADS for w in by_kind(objects, kind).values()]
    for kind in WORKLOADS:
        for name, workload in by_kind(objects, kind).items():
            selector = workload["spec"]["selector"]["matchLabels"]
            assert selector.items() <= workload["spec"]["template"]["metadata"]["labels"].items(), \
                name
    for kind in ("Service", "PodDisruptionBudget"):
        for name, obj in by_kind(objects, kind).items():
            selector = obj["spec"]["selector"]
            selector = selector.get("matchLabels", selector)
            assert any(selector.items() <= labels.items() for labels in pod_labels), name


def test_service_ports_name_container_ports(objects: list[dict[str, Any]]) -> None:
    workloads = [w for kind in WORKLOADS for w in by_kind(objects, kind).values()]
    for name, service in by_kind(objects, "Service").items():
        [workload] = [w for w in workloads if service["spec"]["selector"].items()
                      <= w["spec"]["template"]["metadata"]["labels"].items()]
        ports = {p.get("name") for c in workload["spec"]["template"]["spec"]["containers"]
                 for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, f"{name}: {port['targetPort']}"


def test_references_resolve(objects: list[dict[str, Any]]) -> None:
    config_maps = by_kind(objects, "ConfigMap")
    secret = example_secret()
    services = by_kind(objects, "Service")
    claims = by_kind(objects, "PersistentVolumeClaim")
    for name, spec in pod_specs(objects):
        for container in containers(spec):
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps, name
                else:
                    assert source["secretRef"]["name"] == secret["metadata"]["name"], name
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == secret["metadata"]["name"]
                    assert ref["key"] in secret["stringData"], ref
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, name
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, name
    config = config_maps["omg-config"]["data"]
    assert not unknown_settings(config) and not unknown_settings(secret["stringData"])
    for key in ("OMG_CONTROL_PLANE_HOST", "OMG_EXT_PROC_TARGETS", "OMG_REDIS_URL",
                "OMG_OTLP_ENDPOINT"):
        host = config[key].split("//")[-1].split(":")[0]
        assert host in services, f"{key} names unknown Service {host}"
    assert services["omg-ext-proc"]["spec"]["clusterIP"] == "None"  # Envoy sees every pod
    for name, hpa in by_kind(objects, "HorizontalPodAutoscaler").items():
        target = hpa["spec"]["scaleTargetRef"]
        assert target["name"] in by_kind(objects, target["kind"]), name


def test_containers_are_pinned_probed_bounded_and_locked_down(
    kustomization: dict[str, Any], objects: list[dict[str, Any]]
) -> None:
    assert [i["name"] for i in kustomization["images"]] == [OWN_IMAGE]
    for name, spec in pod_specs(objects):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        for container in containers(spec):
            label = f"{name}/{container['name']}"
            assert is_pinned(container["image"]), label
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, label
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], label
            assert {"requests", "limits"} <= container["resources"].keys(), label
            if container in spec["containers"]:
                assert "readinessProbe" in container and "livenessProbe" in container, label
            if container["image"].startswith(OWN_IMAGE):
                assert container["securityContext"]["readOnlyRootFilesystem"] is True, label
                assert command_exists(container["command"]), label


def test_generated_config_maps_carry_every_dashboard(stack: dict[str, Any]) -> None:
    generators = {g["name"]: g["files"] for g in stack["configMapGenerator"]}
    for files in generators.values():
        for entry in files:
            assert (DEPLOY / entry.split("=")[-1]).is_file(), entry
    dashboards = {Path(f).name for f in generators["omg-grafana-dashboards"]}
    assert dashboards == {p.name for p in (DEPLOY / "grafana" / "dashboards").glob("*.json")}


def test_prometheus_and_grafana_find_what_they_need(objects: list[dict[str, Any]]) -> None:
    services = by_kind(objects, "Service")
    config = yaml.safe_load((DEPLOY / "k8s" / "monitoring" / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["kubernetes_sd_configs"][0]["namespaces"]["names"] == ["omg"]
    scraped = 0
    for name, spec in pod_specs(objects):
        workload = by_kind(objects, "Deployment").get(name) or by_kind(objects, "StatefulSet")[name]
        annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
        if annotations.get("prometheus.io/scrape") == "true":
            ports = {p["containerPort"] for c in spec["containers"] for p in c["ports"]}
            assert int(annotations["prometheus.io/port"]) in ports, name
            scraped += 1
    assert scraped == 3  # ext_proc, control plane, Envoy
    datasource = yaml.safe_load(
        (DEPLOY / "k8s" / "monitoring" / "grafana-datasource.yml").read_text())["datasources"][0]
    url = urlsplit(datasource["url"])
    assert url.hostname in services
    assert url.port in {p["port"] for p in services[str(url.hostname)]["spec"]["ports"]}
    accounts = by_kind(objects, "ServiceAccount")
    for _, spec in pod_specs(objects):
        assert spec.get("serviceAccountName", "default") in {*accounts, "default"}
    for binding in by_kind(objects, "RoleBinding").values():
        assert binding["roleRef"]["name"] in by_kind(objects, "Role")
        assert {s["name"] for s in binding["subjects"]} <= accounts.keys()
