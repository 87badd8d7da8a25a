"""Draw latest.png from latest.json. Runs in bench/.venvs/plot (matplotlib), not the project venv:

    bench/.venvs/plot/bin/python bench/plot.py results/latest.json results/latest.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

CONCURRENCY_POINTS = {"c1": 1, "c16": 16, "c64": 64}


def series(target: dict[str, Any], key: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for name, concurrency in CONCURRENCY_POINTS.items():
        figures = target.get("points", {}).get(name, {})
        if key in figures:
            xs.append(concurrency)
            ys.append(float(figures[key]))
    return xs, ys


def draw(doc: dict[str, Any], out: Path) -> None:
    fig, (latency, throughput) = plt.subplots(1, 2, figsize=(12, 4.8))
    for name, target in doc["targets"].items():
        if target.get("status") != "ok":
            continue
        xs, ys = series(target, "added_p50_ms")
        if name != "direct" and xs:
            latency.plot(xs, ys, marker="o", label=f"{name} p50")
        xs, ys = series(target, "added_p99_ms")
        if name != "direct" and xs:
            latency.plot(xs, ys, marker="x", linestyle="--", alpha=0.6, label=f"{name} p99")
        xs, ys = series(target, "rps")
        if xs:
            throughput.plot(xs, ys, marker="o", label=name)
    for axis in (latency, throughput):
        axis.set_xscale("log", base=2)
        ticks = list(CONCURRENCY_POINTS.values())
        axis.set_xticks(ticks, [str(c) for c in ticks])
        axis.set_xlabel("concurrent connections (non-streaming)")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=7)
    latency.set_ylabel("added latency over direct (ms)")
    latency.set_yscale("symlog", linthresh=1.0)
    latency.set_title("Added latency vs concurrency")
    throughput.set_ylabel("requests / s")
    throughput.set_yscale("log")
    throughput.set_title("Throughput vs concurrency")
    fig.suptitle(f"Open Model Gateway benchmark, {doc['timestamp']}")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv: list[str]) -> int:
    source, out = Path(argv[1]), Path(argv[2])
    draw(json.loads(source.read_text()), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
