"""`python -m bench [--smoke] [--targets a,b] [--duration S] [--out DIR]`."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import installers, report
from bench.points import POINTS, TTFT_POINT
from bench.runner import RunConfig, run_all
from bench.targets import ALIASES, LAUNCHERS
from bench.wrk import WrkError, ensure_wrk

BENCH_DIR = Path(__file__).resolve().parent
SMOKE_TARGETS = ["direct", "gateway"]
log = logging.getLogger("bench")


def parse_targets(text: str) -> list[str]:
    names: list[str] = []
    for raw in text.split(","):
        name = raw.strip()
        expanded = ALIASES.get(name, [name])
        for target in expanded:
            if target not in LAUNCHERS:
                known = ", ".join([*LAUNCHERS, *ALIASES])
                raise argparse.ArgumentTypeError(f"unknown target {target!r} (known: {known})")
            if target not in names:
                names.append(target)
    if "direct" not in names:
        names.insert(0, "direct")  # every comparison is against direct
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true",
                        help="direct and gateway only, ~1 s per point, no plot")
    parser.add_argument("--targets", type=parse_targets, default=None,
                        help=f"comma-separated; default all: {', '.join(LAUNCHERS)}")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per point")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results",
                        help="results directory (default bench/results)")
    parser.add_argument("--no-plot", action="store_true", help="skip latest.png")
    return parser


def run_config(args: argparse.Namespace) -> RunConfig:
    targets = args.targets or (SMOKE_TARGETS if args.smoke else list(LAUNCHERS))
    if args.smoke and args.targets:
        targets = [t for t in args.targets if t in SMOKE_TARGETS] or SMOKE_TARGETS
    return RunConfig(
        targets=targets,
        duration_s=1.0 if args.smoke else args.duration,
        warmup_s=1.0 if args.smoke else 2.0,
        ttft_requests=100 if args.smoke else 400,
        work_dir=args.out / "tmp",
    )


def plot(json_path: Path, png_path: Path) -> str:
    try:
        python = installers.plot_python()
    except installers.InstallFailed as exc:
        return f"no plot: {exc}"
    done = subprocess.run([str(python), str(BENCH_DIR / "plot.py"), str(json_path),
                           str(png_path)], capture_output=True, text=True)
    return str(png_path) if done.returncode == 0 else f"no plot: {done.stderr[-500:]}"


def document(config: RunConfig, results: dict[str, Any], elapsed: float,
             smoke: bool) -> dict[str, Any]:
    from bench.machine import machine_info

    report.add_added_latency(results)
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "machine": machine_info(),
        "config": {"smoke": smoke, "duration_s": config.duration_s,
                   "warmup_s": config.warmup_s, "targets": config.targets,
                   "points": [p.__dict__ for p in POINTS],
                   "ttft_requests": config.ttft_requests,
                   "ttft_concurrency": TTFT_POINT.concurrency},
        "targets": results,
        "headline": report.headline(results),
    }


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        ensure_wrk()
    except (WrkError, subprocess.CalledProcessError) as exc:
        log.error("cannot run without wrk: %s", exc)
        return 2
    config = run_config(args)
    started = time.monotonic()
    results = run_all(config)
    doc = document(config, results, time.monotonic() - started, args.smoke)
    json_path, md_path = report.write_outputs(doc, args.out)
    log.info("wrote %s and %s", json_path, md_path)
    if not (args.smoke or args.no_plot):
        log.info("plot: %s", plot(json_path, args.out / "latest.png"))
    failed = [n for n in ("direct", "gateway") if results.get(n, {}).get("status", "ok") != "ok"]
    log.info("total %.0f s", time.monotonic() - started)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
