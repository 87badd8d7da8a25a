"""Derived figures (added latency, headline ratios) and the JSON / Markdown outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.points import POINTS
from bench.stats import ratio

LITELLM_CONFIGS = ("litellm-1w", "litellm-2w")


def point_of(results: dict[str, Any], target: str, point: str) -> dict[str, Any] | None:
    figures = results.get(target, {}).get("points", {}).get(point)
    return figures if figures and "failed" not in figures else None


def add_added_latency(results: dict[str, Any]) -> None:
    """Each point gains added_p50_ms / added_p99_ms over `direct` at the same point."""
    for target in results.values():
        for name, figures in target.get("points", {}).items():
            base = point_of(results, "direct", name)
            if base is None or "failed" in figures:
                continue
            figures["added_p50_ms"] = round(figures["p50_ms"] - base["p50_ms"], 3)
            figures["added_p99_ms"] = round(figures["p99_ms"] - base["p99_ms"], 3)


def best_litellm(results: dict[str, Any], point: str) -> tuple[str, float] | None:
    options = [(name, f["rps"]) for name in LITELLM_CONFIGS
               if (f := point_of(results, name, point)) is not None]
    return max(options, key=lambda item: item[1]) if options else None


def rps(results: dict[str, Any], target: str, point: str) -> float | None:
    figures = point_of(results, target, point)
    return figures["rps"] if figures else None


def headline(results: dict[str, Any]) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for point in POINTS:
        gw = point_of(results, "gateway", point.name)
        if gw is None:
            continue
        best = best_litellm(results, point.name)
        rows[point.name] = {
            "gateway_added_p50_ms": gw.get("added_p50_ms"),
            "gateway_added_p99_ms": gw.get("added_p99_ms"),
            "gateway_over_direct_p50": ratio(gw["p50_ms"],
                                             (point_of(results, "direct", point.name)
                                              or {}).get("p50_ms")),
            "gateway_vs_litellm_best_rps": ratio(gw["rps"], best[1] if best else None),
            "litellm_best_config": best[0] if best else None,
            "gateway_vs_portkey_rps": ratio(gw["rps"], rps(results, "portkey", point.name)),
            "gateway_vs_envoy_only_rps": ratio(gw["rps"], rps(results, "envoy-only", point.name)),
            "gateway_vs_direct_rps": ratio(gw["rps"], rps(results, "direct", point.name)),
        }
    return rows


def fmt(value: Any, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}{suffix}"
    return f"{value}{suffix}"


def headline_table(rows: dict[str, Any]) -> list[str]:
    lines = [
        "| point | gateway added p50 / p99 (ms) | gateway p50 / direct p50 "
        "| gateway / LiteLLM best (rps) | gateway / Portkey (rps) "
        "| gateway / Envoy-only (rps) | gateway / direct (rps) |",
        "|---|---|---|---|---|---|---|",
    ]
    for point, row in rows.items():
        best = f" ({row['litellm_best_config']})" if row["litellm_best_config"] else ""
        lines.append(
            f"| {point} | {fmt(row['gateway_added_p50_ms'])} / {fmt(row['gateway_added_p99_ms'])} "
            f"| {fmt(row['gateway_over_direct_p50'], 1, 'x')} "
            f"| {fmt(row['gateway_vs_litellm_best_rps'], 2, 'x')}{best} "
            f"| {fmt(row['gateway_vs_portkey_rps'], 2, 'x')} "
            f"| {fmt(row['gateway_vs_envoy_only_rps'], 2, 'x')} "
            f"| {fmt(row['gateway_vs_direct_rps'], 2, 'x')} |"
        )
    return lines


def detail_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| target | point | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | errors "
        "| CPU s/1k req (target) | CPU s/1k (incl. mock) | peak RSS MB | wrk CPU s/1k |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, target in results.items():
        if target.get("status") != "ok":
            continue
        for point, f in target["points"].items():
            if "failed" in f:
                lines.append(f"| {name} | {point} | failed: {f['failed'][:80]} |" + " |" * 9)
                continue
            lines.append(
                f"| {name} | {point} | {f['rps']:.0f} | {f['p50_ms']:.2f} | {f['p99_ms']:.2f} "
                f"| {fmt(f.get('added_p50_ms'))} | {fmt(f.get('added_p99_ms'))} | {f['errors']} "
                f"| {fmt(f['cpu_s_per_1k'], 3)} | {fmt(f['cpu_s_per_1k_incl_mock'], 3)} "
                f"| {f['peak_rss_mb']:.0f} | {fmt(f['wrk_cpu_s_per_1k'], 3)} |"
            )
    return lines


def process_table(results: dict[str, Any]) -> list[str]:
    """CPU per request of each gateway process, and the ext_proc messages it took."""
    points = (results.get("gateway") or {}).get("points") or {}
    lines = ["| point | CPU us/req by process | ext_proc streams/req | msgs sent/req "
             "| msgs received/req |", "|---|---|---|---|---|"]
    for point, f in points.items():
        if "failed" in f:
            continue
        by_process = ", ".join(f"{name} {value * 1000:.0f}" for name, value
                               in f["cpu_s_per_1k_by_process"].items() if value is not None)
        lines.append(f"| {point} | {by_process} | {fmt(f.get('ext_proc_streams_per_req'))} "
                     f"| {fmt(f.get('ext_proc_msgs_sent_per_req'))} "
                     f"| {fmt(f.get('ext_proc_msgs_received_per_req'))} |")
    return lines


def ttft_table(results: dict[str, Any]) -> list[str]:
    lines = ["| target | requests | errors | TTFT p50 ms | TTFT p99 ms |", "|---|---|---|---|---|"]
    for name, target in results.items():
        ttft = target.get("ttft")
        if ttft:
            lines.append(f"| {name} | {ttft['requests']} | {ttft['errors']} "
                         f"| {fmt(ttft['p50_ms'])} | {fmt(ttft['p99_ms'])} |")
    return lines


def unavailable(results: dict[str, Any]) -> list[str]:
    return [f"- **{name}**: {t['status']}" for name, t in results.items()
            if t.get("status") != "ok"]


def markdown(doc: dict[str, Any]) -> str:
    machine = doc["machine"]
    results = doc["targets"]
    parts = [
        "# Open Model Gateway benchmark",
        "",
        f"Run {doc['timestamp']} on {machine['cpu_model']} ({machine['logical_cpus']} logical "
        f"CPUs, {machine['memory_gb']} GB), {doc['config']['duration_s']} s per point, "
        f"wall time {doc['elapsed_s']:.0f} s. All targets call the same built-in mock provider; "
        "load from wrk (t1 at c=1, t2 otherwise). `added` = target minus direct at the same "
        "point. CPU s/1k req sums user+system CPU of the target's own processes (for `direct`, "
        "the mock itself); `incl. mock` adds the mock provider's share.",
        "",
        "## Headline (ratios from this run)",
        "",
        *headline_table(doc["headline"]),
        "",
        "## Every target and point",
        "",
        *detail_table(results),
        "",
        "## Gateway cost per request (CPU by process, ext_proc messages from Envoy's stats)",
        "",
        *process_table(results),
        "",
        f"## Time to first token (stream, c={doc['config']['ttft_concurrency']}, httpx client)",
        "",
        *ttft_table(results),
    ]
    missing = unavailable(results)
    if missing:
        parts += ["", "## Unavailable targets", "", *missing]
    return "\n".join(parts) + "\n"


def write_outputs(doc: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "latest.json", out / "latest.md"
    json_path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    md_path.write_text(markdown(doc))
    return json_path, md_path
