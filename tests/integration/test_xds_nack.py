"""A config Envoy rejects (NACK) is logged with Envoy's reason; the last good one keeps serving.

The ADS server runs in the test process (the same class the control plane serves), so the
test can publish a resource the control plane's own builders would never produce.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from pathlib import Path

import grpc
import httpx
import pytest
from envoy.config.cluster.v3 import cluster_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc
from google.protobuf import json_format

from cli.envoy_config import envoy_binary, write_bootstrap
from control_plane.xds.ads import AdsServer
from control_plane.xds.cache import XdsCache, snapshot_from_resources
from control_plane.xds.resources import CLUSTER_TYPE, build_clusters, build_route_config
from omg_common.settings import Settings
from protos import config_pb2
from tests.conftest import free_port

pytestmark = pytest.mark.integration


def deployment(dep_id: str, port: int) -> config_pb2.Deployment:
    return config_pb2.Deployment(
        id=dep_id, name=dep_id, model=f"m-{dep_id}", provider="openai",
        base_url=f"http://127.0.0.1:{port}/v1", cluster=f"omg_dep_{dep_id}", timeout_s=30,
    )


def invalid_cluster() -> cluster_pb2.Cluster:
    # Well-formed protobuf that Envoy refuses: STATIC clusters cannot use CLUSTER_PROVIDED.
    return json_format.ParseDict(
        {"name": "omg_dep_bad", "type": "STATIC", "lb_policy": "CLUSTER_PROVIDED",
         "connect_timeout": "1s"},
        cluster_pb2.Cluster(),
    )


async def clusters_text(admin_port: int) -> str:
    async with httpx.AsyncClient() as client:
        try:
            return (await client.get(f"http://127.0.0.1:{admin_port}/clusters")).text
        except httpx.HTTPError:
            return ""


async def eventually(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_nack_is_logged_and_last_good_config_keeps_serving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(home=tmp_path, xds_port=free_port(), envoy_admin_port=free_port(),
                        listen_port=free_port(), ext_proc_port=free_port(),
                        node_id="omg-nack-test")
    cache = XdsCache()
    good = [deployment("good", 9)]
    await cache.publish(snapshot_from_resources(build_clusters(good), [build_route_config(good)]))
    ads = AdsServer(cache)
    server = grpc.aio.server()
    ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server(ads, server)
    server.add_insecure_port(f"127.0.0.1:{settings.xds_port}")
    await server.start()
    envoy = subprocess.Popen(
        [str(envoy_binary()), "-c", str(write_bootstrap(settings, [settings.ext_proc_port])),
         "--disable-hot-restart", "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        async def good_cluster_loaded() -> bool:
            return "omg_dep_good::127.0.0.1:9" in await clusters_text(settings.envoy_admin_port)

        await eventually(good_cluster_loaded)
        good_version = cache.snapshot.version

        async def good_acked() -> bool:  # Envoy may show a cluster before its ACK arrives
            state = ads.nodes.get("omg-nack-test")
            return bool(state and state.types[CLUSTER_TYPE].acked_version == good_version)

        await eventually(good_acked)

        caplog.set_level(logging.ERROR, logger="omg.control_plane.xds")
        bad = snapshot_from_resources(
            [*build_clusters(good), invalid_cluster()], [build_route_config(good)]
        )
        await cache.publish(bad)

        async def nacked() -> bool:
            state = ads.nodes.get("omg-nack-test")
            return bool(state and state.types[CLUSTER_TYPE].last_error)

        await eventually(nacked)
        state = ads.nodes["omg-nack-test"].types[CLUSTER_TYPE]
        assert "omg_dep_bad" in state.last_error
        assert state.acked_version == good_version
        assert any("NACK" in r.getMessage() and state.last_error in r.getMessage()
                   for r in caplog.records)
        text = await clusters_text(settings.envoy_admin_port)
        assert "omg_dep_good::127.0.0.1:9" in text and "omg_dep_bad" not in text

        # A later good config is accepted again.
        fixed = [deployment("good", 9), deployment("second", 10)]
        await cache.publish(
            snapshot_from_resources(build_clusters(fixed), [build_route_config(fixed)])
        )

        async def second_loaded() -> bool:
            return "omg_dep_second::127.0.0.1:10" in await clusters_text(settings.envoy_admin_port)

        await eventually(second_loaded)
    finally:
        envoy.terminate()
        envoy.wait(10)
        await server.stop(0)
