"""The ext_proc metrics endpoint: one scrape target for all ext_proc processes of a host.

With PROMETHEUS_MULTIPROC_DIR set (`omg up` sets it to OMG_HOME/metrics/ext_proc and empties
it at start), every worker writes its samples to files there and the first worker (the only
one with OMG_EXT_PROC_METRICS_PORT != 0) serves the sum of all of them. Without it (one
process per container), the process serves its own registry.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

log = logging.getLogger("omg.ext_proc.metrics")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV, "")
    return Path(value) if value else None


def reset_multiprocess_dir(path: Path) -> Path:
    """Empty the shared folder before the workers start (stale files would be summed)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def forget_dead_workers(path: Path) -> None:
    """Drop the live gauges of workers that died without `stop_metrics` (e.g. SIGKILL and a
    restart by the supervisor), so a dead worker's usage backlog is not summed forever."""
    for gauge in path.glob("gauge_live*_*.db"):
        pid = int(gauge.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, str(path))
        except PermissionError:
            pass  # alive, another user's


class DeclaredFamilies(Collector):
    """The multiprocess samples, plus HELP/TYPE of metrics that have none yet.

    Files only exist for samples, so a histogram nobody observed would vanish from the
    scrape; declaring it keeps dashboards and alert rules resolvable from the first scrape.
    """

    def __init__(self, source: Collector, declared: CollectorRegistry) -> None:
        self._source = source
        self._declared = declared

    def collect(self) -> Iterator[Metric]:
        seen: set[str] = set()
        for family in self._source.collect():
            seen.add(family.name.removesuffix("_total"))  # multiprocess counters keep it
            yield family
        for family in self._declared.collect():
            if family.name.removesuffix("_total") not in seen:
                yield Metric(family.name, family.documentation, family.type, family.unit)


def exposition_registry(own: CollectorRegistry, shared_dir: Path | None) -> CollectorRegistry:
    if shared_dir is None:
        return own
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeclaredFamilies(MultiProcessCollector(None, str(shared_dir)), own))
    return registry


def serve_metrics(own: CollectorRegistry, host: str, port: int) -> Any:
    """Start the scrape endpoint in a thread; None when disabled or the port is taken."""
    shared = multiprocess_dir()
    if shared is not None:
        forget_dead_workers(shared)
    if not port:
        return None
    try:
        server, _ = start_http_server(port, host, exposition_registry(own, shared))
    except OSError as exc:
        log.warning("metrics endpoint %s:%d not started: %s", host, port, exc)
        return None
    log.info("ext_proc metrics on http://%s:%d/metrics", host, port)
    return server


def stop_metrics(server: Any, pid: int) -> None:
    if server is not None:
        server.shutdown()
    if multiprocess_dir() is not None:
        mark_process_dead(pid)  # its live gauges (the usage backlog) no longer count
