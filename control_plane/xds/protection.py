"""Outlier detection and circuit breakers of a cluster, from a deployment's options.

Each knob is a deployment option (string, like every option) with a default; a value that
does not parse falls back to the default (the admin API validates them on write).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# option name -> default
OUTLIER_DEFAULTS: dict[str, int] = {
    "outlier_consecutive_5xx": 5,
    "outlier_consecutive_gateway_failure": 5,
    "outlier_base_ejection_time_s": 30,
    "outlier_max_ejection_percent": 50,
    "outlier_interval_s": 5,
}
BREAKER_DEFAULTS: dict[str, int] = {
    "max_connections": 1024,
    "max_pending_requests": 1024,
    "max_requests": 1024,
    "max_retries": 256,
}
INTEGER_OPTIONS = frozenset({*OUTLIER_DEFAULTS, *BREAKER_DEFAULTS})


def int_option(options: Mapping[str, str], name: str, default: int) -> int:
    try:
        value = int(options.get(name, ""))
    except ValueError:
        return default
    return value if value >= 0 else default


def invalid_options(options: Mapping[str, str]) -> list[str]:
    """The protection options whose value is not a non-negative integer."""
    return sorted(
        name for name in INTEGER_OPTIONS & options.keys()
        if not options[name].strip().isdigit()
    )


def outlier_detection(options: Mapping[str, str]) -> dict[str, Any]:
    """Ejects a host (= a deployment) after consecutive 5xx / gateway failures."""
    value = {k: int_option(options, k, d) for k, d in OUTLIER_DEFAULTS.items()}
    return {
        "consecutive_5xx": value["outlier_consecutive_5xx"],
        "consecutive_gateway_failure": value["outlier_consecutive_gateway_failure"],
        "enforcing_consecutive_5xx": 100,
        "enforcing_consecutive_gateway_failure": 100,
        "enforcing_success_rate": 0,
        "base_ejection_time": f"{value['outlier_base_ejection_time_s']}s",
        "max_ejection_percent": min(value["outlier_max_ejection_percent"], 100),
        "interval": f"{max(value['outlier_interval_s'], 1)}s",
    }


def circuit_breakers(options: Mapping[str, str]) -> dict[str, Any]:
    limits = {k: int_option(options, k, d) for k, d in BREAKER_DEFAULTS.items()}
    return {"thresholds": [{"priority": "DEFAULT", **limits}]}


def wants_outlier_detection(options: Mapping[str, str]) -> bool:
    """A lone deployment has nothing to fail over to: ejecting it only turns errors into
    503s for the ejection time, so it gets outlier detection only when it asks for it."""
    return any(name.startswith("outlier_") for name in options)
