"""Versioned, immutable xDS snapshots: validated for consistency, then swapped whole."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.route.v3 import route_pb2

from control_plane.config_state import GatewayState
from control_plane.xds.resources import (
    CLUSTER_TYPE,
    ROUTE_TYPE,
    build_clusters,
    build_route_config,
)


class InconsistentSnapshot(ValueError):
    """A route names a cluster the snapshot does not have."""


@dataclass(frozen=True)
class XdsSnapshot:
    version: str
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # type_url -> name -> msg

    def named(self, type_url: str, names: list[str]) -> list[Any]:
        by_name = self.resources.get(type_url, {})
        if not names:
            return list(by_name.values())
        return [by_name[n] for n in names if n in by_name]


def route_clusters(route_config: route_pb2.RouteConfiguration) -> set[str]:
    return {
        route.route.cluster
        for vhost in route_config.virtual_hosts
        for route in vhost.routes
        if route.HasField("route")
    }


def check_consistent(snapshot: XdsSnapshot) -> None:
    clusters = set(snapshot.resources.get(CLUSTER_TYPE, {}))
    for route_config in snapshot.resources.get(ROUTE_TYPE, {}).values():
        missing = route_clusters(route_config) - clusters
        if missing:
            raise InconsistentSnapshot(f"routes name unknown clusters: {sorted(missing)}")


def content_version(resources: dict[str, dict[str, Any]]) -> str:
    digest = hashlib.sha256()
    for type_url in sorted(resources):
        for name in sorted(resources[type_url]):
            digest.update(resources[type_url][name].SerializeToString(deterministic=True))
    return digest.hexdigest()[:16]


def snapshot_from_resources(
    clusters: list[cluster_pb2.Cluster], route_configs: list[route_pb2.RouteConfiguration]
) -> XdsSnapshot:
    resources = {
        CLUSTER_TYPE: {c.name: c for c in clusters},
        ROUTE_TYPE: {r.name: r for r in route_configs},
    }
    return XdsSnapshot(content_version(resources), resources)


def snapshot_from_state(state: GatewayState) -> XdsSnapshot:
    deployments = list(state.deployments.values())
    return snapshot_from_resources(
        build_clusters(deployments, state.models),
        [build_route_config(deployments, state.models)],
    )


class XdsCache:
    """Holds the current snapshot; streams wait on `changed` for the next one."""

    def __init__(self) -> None:
        self.snapshot = XdsSnapshot("")
        self._changed = asyncio.Condition()

    async def publish(self, snapshot: XdsSnapshot) -> None:
        check_consistent(snapshot)
        async with self._changed:
            if snapshot.version == self.snapshot.version:
                return
            self.snapshot = snapshot
            self._changed.notify_all()

    async def wait_newer(self, version: str) -> XdsSnapshot:
        async with self._changed:
            await self._changed.wait_for(lambda: self.snapshot.version != version)
            return self.snapshot
