"""`python -m control_plane.main`: admin API, xDS (ADS), config and usage gRPC in one loop."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from typing import Any

import grpc
import uvicorn
from envoy.service.discovery.v3 import ads_pb2_grpc

from control_plane.alerting.deliver import SmtpSettings
from control_plane.alerting.dispatch import AlertDispatcher
from control_plane.app import create_app
from control_plane.budget_alerts import BudgetAlertJob
from control_plane.config_hub import ConfigHub
from control_plane.config_state import GatewayState
from control_plane.crypto import CredentialCipher, load_or_create_secret
from control_plane.db import make_engine, make_sessions
from control_plane.envoy_health import admin_urls
from control_plane.grpc_services import ConfigService, UsageService
from control_plane.metrics import ControlPlaneMetrics
from control_plane.sli.evaluator import SliEvaluator
from control_plane.sli.notify import incident_notifier
from control_plane.xds.ads import AdsServer
from control_plane.xds.cache import XdsCache, snapshot_from_state
from omg_common.lifecycle import stop_on_signals
from omg_common.logs import configure_logging
from omg_common.settings import Settings, load_settings
from protos import config_pb2_grpc, usage_pb2_grpc

log = logging.getLogger("omg.control_plane")


def xds_publisher(cache: XdsCache) -> object:
    def publish(state: GatewayState) -> None:
        asyncio.get_running_loop().create_task(cache.publish(snapshot_from_state(state)))

    return publish


def alert_dispatcher(
    settings: Settings, sessions: Any, cipher: CredentialCipher
) -> AlertDispatcher:
    """One per replica, shared by budget alerts and SLI incidents."""
    smtp = SmtpSettings(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                        settings.smtp_user, settings.smtp_password, settings.smtp_starttls)
    return AlertDispatcher(sessions, cipher, smtp, settings.alert_retries,
                           settings.alert_backoff_seconds)


def sli_evaluator(
    settings: Settings, sessions: Any, hub: ConfigHub, dispatcher: AlertDispatcher
) -> SliEvaluator:
    """One per replica; the lease lets only one of them evaluate at a time."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    interval = settings.sli_eval_seconds
    return SliEvaluator(sessions, incident_notifier(dispatcher), hub.refresh,
                        holder, interval_s=interval, lease_s=max(3 * interval, 5.0))


def grpc_server(
    settings: Settings, hub: ConfigHub, sessions: object, ads: AdsServer,
    metrics: ControlPlaneMetrics, alerts: BudgetAlertJob,
) -> grpc.aio.Server:
    size = settings.grpc_max_message_bytes
    server = grpc.aio.server(
        options=[("grpc.max_receive_message_length", size), ("grpc.max_send_message_length", size)]
    )
    ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server(ads, server)
    config_pb2_grpc.add_ConfigServiceServicer_to_server(ConfigService(hub), server)
    usage_pb2_grpc.add_UsageServiceServicer_to_server(  # type: ignore[arg-type]
        UsageService(sessions, metrics, alerts.touch), server)  # type: ignore[arg-type]
    server.add_insecure_port(f"{settings.bind_host}:{settings.xds_port}")
    return server


async def serve(settings: Settings) -> None:
    engine = make_engine(settings.effective_database_url)
    sessions = make_sessions(engine)
    cipher = CredentialCipher(load_or_create_secret(settings.secret_key, settings.resolved_home))
    hub = ConfigHub(sessions, cipher)
    cache = XdsCache()
    await hub.refresh()
    await cache.publish(snapshot_from_state(hub.state))
    hub.add_listener(xds_publisher(cache))  # type: ignore[arg-type]
    ads = AdsServer(cache)
    metrics = ControlPlaneMetrics()
    metrics.watch_config(lambda: hub.version, lambda: ads.nodes)

    dispatcher = alert_dispatcher(settings, sessions, cipher)
    alerts = BudgetAlertJob(sessions, dispatcher)
    metrics.watch_budgets(lambda: alerts.remaining)
    hub.add_listener(lambda _state: alerts.touch_all())
    server = grpc_server(settings, hub, sessions, ads, metrics, alerts)
    await server.start()
    app = create_app(sessions=sessions, hub=hub, cipher=cipher, ads=ads, metrics=metrics,
                     envoy_admin_urls=admin_urls(settings.envoy_admin_targets))
    api = uvicorn.Server(uvicorn.Config(
        app, host=settings.bind_host, port=settings.admin_port,
        log_level="warning", access_log=False, lifespan="off",
    ))
    api.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    poller = asyncio.create_task(hub.poll_forever(settings.config_poll_seconds))
    evaluator = asyncio.create_task(
        sli_evaluator(settings, sessions, hub, dispatcher).run_forever())
    api_task = asyncio.create_task(api.serve())
    alerting = asyncio.create_task(alerts.run_forever(settings.alert_interval_seconds))
    log.info("control plane: admin API :%d, xDS/config/usage gRPC :%d, config version %s",
             settings.admin_port, settings.xds_port, hub.version)

    stop = stop_on_signals()
    await asyncio.wait({asyncio.ensure_future(stop.wait()), api_task},
                       return_when=asyncio.FIRST_COMPLETED)
    api.should_exit = True
    poller.cancel()
    evaluator.cancel()
    alerting.cancel()
    await asyncio.gather(evaluator, alerting, return_exceptions=True)
    await server.stop(grace=1)
    await api_task
    await engine.dispose()


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
