"""``python -m fake_providers <provider> --port N``: serve one fake provider under uvicorn."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import uvicorn

from fake_providers import FAKES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fake_providers", description="Serve a fake model provider."
    )
    parser.add_argument("provider", choices=sorted(FAKES))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    app = FAKES[args.provider]()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", lifespan="on")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
