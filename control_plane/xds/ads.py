"""Aggregated Discovery Service (state of the world) over the XdsCache.

Per stream and type: answer the first request, push every newer snapshot, treat a request
that echoes our nonce as an ACK (nothing to send) or, with `error_detail`, as a NACK (log
Envoy's reason; Envoy keeps its last good config, so do we: no re-push of the same version).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from google.protobuf import any_pb2

from control_plane.xds.cache import XdsCache, XdsSnapshot

log = logging.getLogger("omg.control_plane.xds")


@dataclass
class TypeState:
    names: list[str] = field(default_factory=list)
    sent_version: str = ""
    nonce: str = ""
    acked_version: str = ""
    last_error: str = ""


@dataclass
class NodeStatus:
    """What each Envoy has accepted; served on the admin API for operators."""

    types: dict[str, TypeState] = field(default_factory=dict)


def pack(resources: list[Any]) -> list[any_pb2.Any]:
    packed = []
    for resource in resources:
        wrapper = any_pb2.Any()
        wrapper.Pack(resource)
        packed.append(wrapper)
    return packed


class AdsServer(ads_pb2_grpc.AggregatedDiscoveryServiceServicer):
    def __init__(self, cache: XdsCache) -> None:
        self._cache = cache
        self._nonces = itertools.count(1)
        self.nodes: dict[str, NodeStatus] = {}

    def _response(
        self, snapshot: XdsSnapshot, type_url: str, state: TypeState
    ) -> discovery_pb2.DiscoveryResponse:
        state.sent_version = snapshot.version
        state.nonce = str(next(self._nonces))
        return discovery_pb2.DiscoveryResponse(
            version_info=snapshot.version,
            type_url=type_url,
            nonce=state.nonce,
            resources=pack(snapshot.named(type_url, state.names)),
        )

    def _on_request(
        self, node_id: str, request: discovery_pb2.DiscoveryRequest, types: dict[str, TypeState]
    ) -> discovery_pb2.DiscoveryResponse | None:
        state = types.setdefault(request.type_url, TypeState())
        names = list(request.resource_names)
        if request.response_nonce and request.response_nonce != state.nonce:
            return None  # stale: answers a push that a newer one replaced
        if request.HasField("error_detail"):
            state.last_error = request.error_detail.message
            log.error(
                "Envoy %s rejected %s version %s (NACK), keeps version %r: %s",
                node_id, request.type_url, state.sent_version, request.version_info,
                request.error_detail.message,
            )
            return None
        if request.response_nonce and names == state.names:
            state.acked_version = request.version_info
            state.last_error = ""
            return None
        state.names = names
        return self._response(self._cache.snapshot, request.type_url, state)

    def _on_snapshot(
        self, snapshot: XdsSnapshot, types: dict[str, TypeState]
    ) -> list[discovery_pb2.DiscoveryResponse]:
        return [
            self._response(snapshot, type_url, state)
            for type_url, state in types.items()
            if state.sent_version != snapshot.version
        ]

    async def StreamAggregatedResources(
        self, request_iterator: AsyncIterator[discovery_pb2.DiscoveryRequest], context: Any
    ) -> AsyncIterator[discovery_pb2.DiscoveryResponse]:
        requests = aiter(request_iterator)
        first = await anext(requests)
        node_id = first.node.id or "unknown"
        types = self.nodes.setdefault(node_id, NodeStatus()).types
        types.clear()
        log.info("Envoy %s (cluster %s) connected", node_id, first.node.cluster)
        seen = self._cache.snapshot.version
        response = self._on_request(node_id, first, types)
        if response is not None:
            yield response
        next_request = asyncio.ensure_future(anext(requests))
        next_snapshot = asyncio.ensure_future(self._cache.wait_newer(seen))
        try:
            while True:
                done, _ = await asyncio.wait(
                    {next_request, next_snapshot}, return_when=asyncio.FIRST_COMPLETED
                )
                if next_request in done:
                    try:
                        request = next_request.result()
                    except StopAsyncIteration:
                        return
                    response = self._on_request(node_id, request, types)
                    if response is not None:
                        yield response
                    next_request = asyncio.ensure_future(anext(requests))
                if next_snapshot in done:
                    snapshot = next_snapshot.result()
                    for response in self._on_snapshot(snapshot, types):
                        yield response
                    next_snapshot = asyncio.ensure_future(self._cache.wait_newer(snapshot.version))
        finally:
            for task in (next_request, next_snapshot):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            log.info("Envoy %s disconnected", node_id)
