"""The admin API application, built from already-constructed dependencies."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request, Response

from control_plane.api import (
    routes_alerts,
    routes_budgets,
    routes_config,
    routes_health,
    routes_keys,
    routes_ops,
    routes_self,
    routes_tenants,
    routes_users,
)
from control_plane.api.errors import install_error_handlers
from control_plane.metrics import ControlPlaneMetrics

REQUEST_ID_HEADER = "x-request-id"
# Every router of the admin API; `create_app` mounts exactly these (the RBAC matrix reads them).
ROUTERS = (routes_ops.health_router, routes_tenants.router, routes_users.router,
           routes_keys.router, routes_config.router, routes_ops.router, routes_self.router,
           routes_health.router, routes_budgets.router, routes_alerts.router)


def request_id_of(request: Request) -> str:
    """The caller's id when it sent a sane one (ties CLI runs to audit rows), else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if given and len(given) <= 128 and given.isprintable():
        return given
    return uuid.uuid4().hex


async def tag_request(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    request.state.request_id = request_id_of(request)
    response = await call_next(request)
    response.headers[REQUEST_ID_HEADER] = request.state.request_id
    return response


def create_app(
    *, sessions: Any, hub: Any, cipher: Any, ads: Any, metrics: ControlPlaneMetrics | None = None,
    envoy_admin_urls: Sequence[str] = (),
) -> FastAPI:
    app = FastAPI(
        title="Open Model Gateway admin API",
        version="0.2.0",
        description="Tenants, users, roles, API keys, models and deployments; usage and audit. "
                    "Authenticate with a personal access token: `Authorization: Bearer <token>`.",
    )
    app.state.sessions = sessions
    app.state.hub = hub
    app.state.cipher = cipher
    app.state.ads = ads
    app.state.envoy_admin_urls = tuple(envoy_admin_urls)  # live health (omg health)
    app.state.metrics = metrics or ControlPlaneMetrics()
    install_error_handlers(app)
    app.middleware("http")(tag_request)
    for router in ROUTERS:
        app.include_router(router)
    return app
