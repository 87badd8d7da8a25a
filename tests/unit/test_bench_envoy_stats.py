"""Reading ext_proc message counts out of Envoy's admin stats (bench)."""

from __future__ import annotations

from bench.envoy_stats import parse_counters, per_request

STATS = """http.gateway.ext_proc.streams_started: 10
http.gateway.ext_proc.stream_msgs_sent: 40
http.gateway.ext_proc.stream_msgs_received: 30
http.gateway.ext_proc.spurious_msgs_received: 0
cluster.ext_proc.upstream_rq_total: 12
"""


def test_parse_keeps_only_the_router_level_message_counters() -> None:
    assert parse_counters(STATS) == {
        "streams_started": 10, "stream_msgs_sent": 40, "stream_msgs_received": 30}


def test_per_request_divides_the_deltas() -> None:
    before = {"streams_started": 10, "stream_msgs_sent": 40, "stream_msgs_received": 30}
    after = {"streams_started": 110, "stream_msgs_sent": 440, "stream_msgs_received": 330}
    assert per_request(before, after, 100) == {
        "ext_proc_streams_per_req": 1.0, "ext_proc_msgs_sent_per_req": 4.0,
        "ext_proc_msgs_received_per_req": 3.0}
    assert per_request(before, after, 0) == {}
