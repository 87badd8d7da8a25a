"""Command line entry point: ``python -m mock_provider --port 8090``."""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Sequence
from dataclasses import replace

import uvicorn

from mock_provider.app import create_app
from mock_provider.knobs import TUNABLE, KnobError, Knobs, override


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mock_provider",
        description="Mock model provider speaking the OpenAI wire format.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    knobs = parser.add_argument_group("knobs", "override the OMG_MOCK_* environment variables")
    knobs.add_argument("--latency-ms", metavar="MS", help="delay before each API response")
    knobs.add_argument("--chunk-delay-ms", metavar="MS", help="delay between streamed chunks")
    knobs.add_argument("--error-status", metavar="STATUS", help="inject this status (0: off)")
    knobs.add_argument("--error-rate", metavar="RATE", help="share of requests failed, 0..1")
    knobs.add_argument("--chunks", metavar="N", help="content deltas per streamed answer")
    knobs.add_argument("--abort-after-chunks", metavar="N",
                       help="drop a streamed answer's connection after N events")
    knobs.add_argument("--seed", type=int, help="seed of the error-injection RNG")
    return parser


def knobs_from_args(args: argparse.Namespace, base: Knobs) -> Knobs:
    """``base`` overridden by the knob flags that were given."""
    given = {name: getattr(args, name) for name in TUNABLE if getattr(args, name) is not None}
    knobs = override(base, given, lambda name: "--" + name.replace("_", "-"))
    return knobs if args.seed is None else replace(knobs, seed=args.seed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        knobs = knobs_from_args(args, Knobs.from_env())
    except KnobError as exc:
        parser.error(str(exc))
    config = uvicorn.Config(
        create_app(knobs),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
    )
    uvicorn.Server(config).run()
    return 0
