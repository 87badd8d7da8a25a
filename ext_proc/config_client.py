"""Keeps the runtime snapshot current from the control plane's config stream.

The last good snapshot keeps serving while the control plane is away; a reconnect starts
with a full snapshot that replaces it.
"""

from __future__ import annotations

import asyncio
import logging

import grpc

from ext_proc.snapshot import SnapshotHolder
from protos import config_pb2, config_pb2_grpc

log = logging.getLogger("omg.ext_proc.config")

MAX_BACKOFF_SECONDS = 1.0


async def watch_config(channel: grpc.aio.Channel, holder: SnapshotHolder, node_id: str) -> None:
    stub = config_pb2_grpc.ConfigServiceStub(channel)
    backoff = 0.0
    while True:
        try:
            async for update in stub.Watch(config_pb2.WatchRequest(node_id=node_id)):
                holder.apply(update)
                if backoff:
                    log.info("config stream restored at version %s", update.version)
                backoff = 0.0
        except grpc.aio.AioRpcError as exc:
            if not backoff:
                log.warning(
                    "config stream lost (%s); serving version %r meanwhile",
                    exc.code().name,
                    holder.current.version,
                )
        except Exception:  # a bad update must not end the watch: reconnect for a full snapshot
            log.exception("config update failed; serving version %r meanwhile",
                          holder.current.version)
        backoff = min(MAX_BACKOFF_SECONDS, max(0.1, backoff * 2))
        await asyncio.sleep(backoff)
