"""Measure every selected target at every point, against one shared mock provider."""

from __future__ import annotations

import logging
import shutil
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import envoy_stats, measure, procs
from bench.points import POINTS, TTFT_POINT, Point
from bench.targets import LAUNCHERS, Context, Endpoint, TargetUnavailable, mock_provider
from bench.ttft import run_ttft
from bench.wrk import WrkError, WrkResult, run_wrk

log = logging.getLogger("bench")
MOCK = "mock_provider"
MB = 1024 * 1024


@dataclass(frozen=True)
class RunConfig:
    targets: list[str]
    duration_s: float
    warmup_s: float
    ttft_requests: int
    work_dir: Path


def per_1k(cpu_s: float, requests: int) -> float | None:
    return round(cpu_s / requests * 1000, 4) if requests else None


def own_pids(endpoint: Endpoint, mock_pid: int) -> dict[str, int]:
    """The target's processes; for `direct` the mock provider is the target."""
    return dict(endpoint.pids) or {MOCK: mock_pid}


def point_figures(
    result: WrkResult, cpu: dict[str, float], rss: dict[str, int], own: dict[str, int]
) -> dict[str, Any]:
    own_cpu = sum(cpu[name] for name in own)
    return {
        "rps": round(result.rps, 1),
        "p50_ms": result.p50_ms, "p90_ms": result.p90_ms, "p99_ms": result.p99_ms,
        "max_ms": result.max_ms, "requests": result.requests,
        "duration_s": round(result.duration_s, 3),
        "errors": result.errors, "non2xx": result.non2xx, "socket_errors": result.socket_errors,
        "cpu_s": round(own_cpu, 3),
        "cpu_s_per_1k": per_1k(own_cpu, result.requests),
        "cpu_s_per_1k_by_process": {n: per_1k(s, result.requests) for n, s in cpu.items()},
        "cpu_s_per_1k_incl_mock": per_1k(own_cpu + (0 if MOCK in own else cpu[MOCK]),
                                         result.requests),
        "peak_rss_mb": round(sum(rss[name] for name in own) / MB, 1),
        "peak_rss_mb_by_process": {n: round(v / MB, 1) for n, v in rss.items()},
        "wrk_cpu_s": round(result.wrk_cpu_s, 3),
        "wrk_cpu_s_per_1k": per_1k(result.wrk_cpu_s, result.requests),
    }


def measure_point(
    endpoint: Endpoint, point: Point, mock_pid: int, duration_s: float
) -> dict[str, Any]:
    own = own_pids(endpoint, mock_pid)
    watched = {**own, MOCK: mock_pid}
    messages_before = read_messages(endpoint)
    before = measure.cpu_snapshot(watched)
    with measure.RssSampler(watched) as sampler:
        result = run_wrk(endpoint.url, point.body(), endpoint.headers, point.concurrency,
                         duration_s)
    cpu = measure.cpu_delta(before, measure.cpu_snapshot(watched))
    figures = point_figures(result, cpu, sampler.peaks, own)
    if messages_before is not None:
        figures.update(envoy_stats.per_request(messages_before, read_messages(endpoint) or {},
                                               result.requests))
    return figures


def read_messages(endpoint: Endpoint) -> dict[str, int] | None:
    return envoy_stats.read_counters(endpoint.envoy_admin) if endpoint.envoy_admin else None


def warm_up(endpoint: Endpoint, seconds: float) -> None:
    if seconds > 0:
        run_wrk(endpoint.url, POINTS[1].body(), endpoint.headers, 8, seconds)


def measure_endpoint(endpoint: Endpoint, mock_pid: int, config: RunConfig) -> dict[str, Any]:
    warm_up(endpoint, config.warmup_s)
    points: dict[str, Any] = {}
    for point in POINTS:
        try:
            points[point.name] = measure_point(endpoint, point, mock_pid, config.duration_s)
        except WrkError as exc:
            points[point.name] = {"failed": str(exc)}
        log.info("  %s: %s", point.name, summary(points[point.name]))
    ttft = run_ttft(endpoint.url, TTFT_POINT.body(), endpoint.headers,
                    TTFT_POINT.concurrency, config.ttft_requests)
    log.info("  ttft: %s", ttft)
    return {"status": "ok", "notes": endpoint.notes, "points": points,
            "ttft": {"concurrency": TTFT_POINT.concurrency, **asdict(ttft)}}


def summary(figures: dict[str, Any]) -> str:
    if "failed" in figures:
        return f"failed: {figures['failed'][:200]}"
    return (f"{figures['rps']} rps, p50 {figures['p50_ms']:.2f} ms, "
            f"p99 {figures['p99_ms']:.2f} ms, errors {figures['errors']}")


def run_target(name: str, ctx: Context, mock_pid: int, config: RunConfig) -> dict[str, Any]:
    started = time.monotonic()
    log.info("target %s", name)
    try:
        with LAUNCHERS[name](ctx) as endpoint:
            result = measure_endpoint(endpoint, mock_pid, config)
    except TargetUnavailable as exc:
        log.warning("  unavailable: %s", exc)
        return {"status": f"unavailable: {exc}"}
    except Exception as exc:  # a broken target must not sink the other targets
        log.error("  failed: %s", traceback.format_exc())
        return {"status": f"unavailable: {type(exc).__name__}: {exc}"}
    result["wall_s"] = round(time.monotonic() - started, 1)
    return result


def run_all(config: RunConfig) -> dict[str, Any]:
    config.work_dir.mkdir(parents=True, exist_ok=True)
    mock_port = procs.free_port()
    results: dict[str, Any] = {}
    with mock_provider(mock_port, config.work_dir) as mock_pid:
        for name in config.targets:
            ctx = Context(mock_port=mock_port, work_dir=config.work_dir / name)
            shutil.rmtree(ctx.work_dir, ignore_errors=True)  # every run starts from scratch
            ctx.work_dir.mkdir(parents=True, exist_ok=True)
            results[name] = run_target(name, ctx, mock_pid, config)
    return results
