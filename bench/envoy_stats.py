"""ext_proc message counts from Envoy's admin stats: how many gRPC messages a request costs."""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping

# The router-level filter's counters (the HTTP connection manager's stat prefix is `gateway`).
PREFIX = "http.gateway.ext_proc."
COUNTERS = ("streams_started", "stream_msgs_sent", "stream_msgs_received")


def parse_counters(text: str) -> dict[str, int]:
    """`name: value` lines of /stats (text format) -> our counters, prefix stripped."""
    found: dict[str, int] = {}
    for line in text.splitlines():
        name, _, value = line.partition(": ")
        short = name.removeprefix(PREFIX)
        if name.startswith(PREFIX) and short in COUNTERS and value.strip().isdigit():
            found[short] = int(value)
    return found


def read_counters(admin_url: str) -> dict[str, int]:
    url = f"{admin_url}/stats?filter=^http\\.gateway\\.ext_proc\\."
    with urllib.request.urlopen(url, timeout=5) as response:
        return parse_counters(response.read().decode())


def per_request(before: Mapping[str, int], after: Mapping[str, int],
                requests: int) -> dict[str, float]:
    """Messages each way per request over one point (wrk's count; in-flight ones blur it)."""
    if not requests:
        return {}
    delta = {name: after.get(name, 0) - before.get(name, 0) for name in COUNTERS}
    return {
        "ext_proc_streams_per_req": round(delta["streams_started"] / requests, 3),
        "ext_proc_msgs_sent_per_req": round(delta["stream_msgs_sent"] / requests, 3),
        "ext_proc_msgs_received_per_req": round(delta["stream_msgs_received"] / requests, 3),
    }
