"""Incident notices go to the platform's alert channels (signed webhook, email), once each."""

from __future__ import annotations

from control_plane.alerting.dispatch import AlertDispatcher, AlertEvent
from control_plane.sli.evaluator import IncidentNotice, Notify


def incident_message(notice: IncidentNotice) -> str:
    incident = notice.incident
    verb = "opened" if notice.event == "incident.opened" else "resolved"
    return (f"incident {verb} on {incident['deployment_name']}: {incident['kind']} "
            f"{incident['last_value']:.4g} (threshold {incident['threshold']:.4g})")


def incident_notifier(dispatcher: AlertDispatcher) -> Notify:
    async def notify(notice: IncidentNotice) -> None:
        event = AlertEvent(kind=notice.event, dedup_key=notice.dedup_key,
                           message=incident_message(notice), data=notice.incident)
        await dispatcher.notify(None, event)

    return notify
