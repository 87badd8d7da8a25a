"""What each Envoy thinks of each deployment right now: ejected by outlier detection, failing
its active health check, or healthy, read from Envoy's admin `/clusters?format=json`.

A deployment is a cluster of its own (`omg_dep_<id>`) or, in a fail-over model's cluster, an
endpoint whose hostname is `<id>.omg.internal`. With several Envoys the worst view wins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from omg_common.routing_names import ENDPOINT_DOMAIN

CLUSTER_PREFIX = "omg_dep_"
HEALTHY, FAILED_HEALTH_CHECK, EJECTED, UNKNOWN = (
    "healthy", "failed_health_check", "ejected", "unknown")
_RANK = {UNKNOWN: 0, HEALTHY: 1, FAILED_HEALTH_CHECK: 2, EJECTED: 3}


def _flag(health: Mapping[str, Any], snake: str, camel: str) -> bool:
    return bool(health.get(snake) or health.get(camel))


def host_state(health: Mapping[str, Any]) -> str:
    if _flag(health, "failed_outlier_check", "failedOutlierCheck"):
        return EJECTED
    if _flag(health, "failed_active_health_check", "failedActiveHealthCheck"):
        return FAILED_HEALTH_CHECK
    return HEALTHY


def deployment_of(cluster: str, hostname: str) -> str | None:
    if hostname.endswith(ENDPOINT_DOMAIN):
        return hostname[: -len(ENDPOINT_DOMAIN)]
    if cluster.startswith(CLUSTER_PREFIX):
        return cluster[len(CLUSTER_PREFIX):]
    return None


def worst(a: str, b: str) -> str:
    return a if _RANK[a] >= _RANK[b] else b


def host_states(clusters: Mapping[str, Any], into: dict[str, str] | None = None) -> dict[str, str]:
    """Deployment id -> state, from one Envoy's `/clusters?format=json` (merged into `into`)."""
    states = {} if into is None else into
    for cluster in clusters.get("cluster_statuses", clusters.get("clusterStatuses", ())):
        name = cluster.get("name", "")
        for host in cluster.get("host_statuses", cluster.get("hostStatuses", ())):
            dep_id = deployment_of(name, host.get("hostname", ""))
            if dep_id is None:
                continue
            state = host_state(host.get("health_status", host.get("healthStatus", {})))
            states[dep_id] = worst(states.get(dep_id, UNKNOWN), state)
    return states


async def _fetch(client: httpx.AsyncClient, url: str) -> Mapping[str, Any] | None:
    try:
        response = await client.get(f"{url.rstrip('/')}/clusters", params={"format": "json"})
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]
    except (httpx.HTTPError, ValueError):
        return None  # that Envoy is away: its view is unknown, the others still count


async def envoy_states(urls: Sequence[str], timeout_s: float = 1.0) -> dict[str, str]:
    """Deployment id -> the worst state any reachable Envoy reports ({} when none answers)."""
    if not urls:
        return {}
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        answers = await asyncio.gather(*(_fetch(client, url) for url in urls))
    states: dict[str, str] = {}
    for answer in answers:
        if answer is not None:
            host_states(answer, states)
    return states


def admin_urls(configured: str) -> list[str]:
    """`OMG_ENVOY_ADMIN_URLS`: comma-separated base URLs of the Envoys' admin interfaces."""
    return [url.strip() for url in configured.split(",") if url.strip()]
