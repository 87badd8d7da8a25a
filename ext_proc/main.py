"""`python -m ext_proc.main`: serve the ExternalProcessor once the first snapshot arrived."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

import grpc
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc

from ext_proc.budget_guard import BudgetGuard
from ext_proc.budget_store import BudgetStore, MemoryBudgetStore, RedisBudgetStore
from ext_proc.config_client import watch_config
from ext_proc.counters import Counters, MemoryCounters, RedisCounters, redis_client
from ext_proc.limiter import RateLimiter
from ext_proc.runtime import run
from ext_proc.servicer import ExternalProcessor
from ext_proc.snapshot import SnapshotHolder
from ext_proc.spool import UsageSpool
from ext_proc.telemetry import Telemetry
from ext_proc.usage_shipper import UsageShipper
from omg_common.lifecycle import stop_on_signals
from omg_common.logs import configure_logging
from omg_common.settings import Settings, load_settings

log = logging.getLogger("omg.ext_proc")


async def wait_until_ready(holder: SnapshotHolder, watcher: asyncio.Task[None]) -> None:
    waited = 0
    while not holder.ready:
        if watcher.done():
            watcher.result()
        await asyncio.sleep(0.05)
        waited += 1
        if waited % 100 == 0:
            log.info("waiting for the first config snapshot from the control plane")


def grpc_options(settings: Settings) -> list[tuple[str, int]]:
    size = settings.grpc_max_message_bytes
    return [("grpc.max_receive_message_length", size), ("grpc.max_send_message_length", size)]


def make_limiter(settings: Settings) -> RateLimiter:
    """Redis counters when OMG_REDIS_URL is set (shared by replicas), else process memory."""
    counters: Counters = MemoryCounters()
    if settings.redis_url:
        counters = RedisCounters(redis_client(settings.redis_url, settings.redis_timeout_seconds))
    return RateLimiter(counters, settings.rate_limit_failure_mode)


def make_budget_guard(settings: Settings) -> BudgetGuard:
    """Redis counters when OMG_REDIS_URL is set, else memory (seeded from the usage records)."""
    store: BudgetStore = MemoryBudgetStore()
    if settings.redis_url:
        store = RedisBudgetStore(redis_client(settings.redis_url,
                                              settings.redis_timeout_seconds))
    return BudgetGuard(store, settings.budget_failure_mode)


async def serve(settings: Settings) -> None:
    channel = grpc.aio.insecure_channel(settings.control_plane_grpc_target)
    holder = SnapshotHolder()
    node = f"ext_proc-{settings.ext_proc_port}"
    watcher = asyncio.create_task(watch_config(channel, holder, node))
    spool = UsageSpool(settings.resolved_home / "spool" / f"usage-{settings.ext_proc_port}.db")
    shipper = UsageShipper(spool, channel)
    shipping = asyncio.create_task(shipper.run())
    await wait_until_ready(holder, watcher)

    server = grpc.aio.server(options=grpc_options(settings))
    limiter = make_limiter(settings)
    telemetry = Telemetry(settings)
    budgets = make_budget_guard(settings)
    processor = ExternalProcessor(holder, shipper.submit, random.Random(), limiter,
                                  telemetry.observe, telemetry.attempt_tracer, budgets,
                                  shipper.submit_failed_attempt)
    external_processor_pb2_grpc.add_ExternalProcessorServicer_to_server(processor, server)
    server.add_insecure_port(f"{settings.bind_host}:{settings.ext_proc_port}")
    await server.start()
    telemetry.start()
    flushing = asyncio.create_task(telemetry.flush_forever(lambda: shipper.backlog))
    log.info("ext_proc serving on %s:%d (config %s)", settings.bind_host, settings.ext_proc_port,
             holder.current.version)

    stop = stop_on_signals()
    await stop.wait()
    await server.stop(grace=2)
    shipping.cancel()
    watcher.cancel()
    flushing.cancel()
    await shipper.close()
    await limiter.close()
    await budgets.close()
    spool.close()
    telemetry.close()
    with contextlib.suppress(Exception):
        await channel.close()


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    run(serve(settings), settings.ext_proc_uvloop)


if __name__ == "__main__":
    main()
