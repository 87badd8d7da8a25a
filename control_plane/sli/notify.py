"""Where incident notices go: the platform's alert channels."""

from __future__ import annotations

import logging
from typing import Any

from control_plane.sli.evaluator import IncidentNotice, Notify

log = logging.getLogger("omg.control_plane.sli")


def incident_notifier(sessions: Any) -> Notify:
    async def notify(notice: IncidentNotice) -> None:
        log.warning("%s %s", notice.event, notice.incident["id"])

    return notify
