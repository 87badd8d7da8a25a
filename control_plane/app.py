"""The admin API application, built from already-constructed dependencies."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from control_plane.api import routes_config, routes_ops
from control_plane.api.errors import install_error_handlers


def create_app(*, sessions: Any, hub: Any, cipher: Any, ads: Any) -> FastAPI:
    app = FastAPI(
        title="Open Model Gateway admin API",
        version="0.1.0",
        description="Configure models, deployments, tenants and API keys; read usage.",
    )
    app.state.sessions = sessions
    app.state.hub = hub
    app.state.cipher = cipher
    app.state.ads = ads
    install_error_handlers(app)
    app.include_router(routes_ops.health_router)
    app.include_router(routes_config.router)
    app.include_router(routes_ops.router)
    return app
