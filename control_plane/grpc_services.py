"""The control plane's own gRPC services for ext_proc: config stream and usage intake."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane.config_hub import ConfigHub
from control_plane.metrics import ControlPlaneMetrics
from control_plane.usage_store import store_failed_attempts, store_usage
from protos import config_pb2, config_pb2_grpc, usage_pb2, usage_pb2_grpc

log = logging.getLogger("omg.control_plane.grpc")


class ConfigService(config_pb2_grpc.ConfigServiceServicer):
    def __init__(self, hub: ConfigHub) -> None:
        self._hub = hub

    async def Watch(
        self, request: config_pb2.WatchRequest, context: Any
    ) -> AsyncIterator[config_pb2.ConfigUpdate]:
        log.info("config watcher %s connected", request.node_id)
        async for update in self._hub.watch():
            yield update


class UsageService(usage_pb2_grpc.UsageServiceServicer):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession],
        metrics: ControlPlaneMetrics | None = None,
        on_stored: Callable[[set[str]], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._metrics = metrics or ControlPlaneMetrics()
        self._on_stored = on_stored  # told which tenants' usage arrived (budget alerts)

    async def Report(
        self, request: usage_pb2.UsageBatch, context: Any
    ) -> usage_pb2.UsageAck:
        async with self._sessions() as session:
            inserted = await store_usage(session, request.records)
            await store_failed_attempts(session, request.failed_attempts)
        self._metrics.count_usage(len(request.records), inserted)
        if inserted and self._on_stored is not None:
            self._on_stored({r.tenant_id for r in request.records})
        return usage_pb2.UsageAck(
            inserted=inserted, duplicates=len(request.records) - inserted
        )
