"""The load points every target is measured at, and the request bodies they send."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bench.targets import MODEL


@dataclass(frozen=True)
class Point:
    name: str
    concurrency: int
    stream: bool = False

    def body(self) -> bytes:
        payload = {
            "model": MODEL,
            "messages": [{"role": "user", "content": "Say something short about benchmarks."}],
            "max_tokens": 32,
            "stream": self.stream,
        }
        return json.dumps(payload).encode()


POINTS: tuple[Point, ...] = (
    Point("c1", 1),
    Point("c16", 16),
    Point("c64", 64),
    Point("stream-c16", 16, stream=True),
)
TTFT_POINT = POINTS[-1]
