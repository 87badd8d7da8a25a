"""Time to first token of streamed chat completions, from a small asyncio httpx client."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import httpx

from bench.stats import percentile


@dataclass(frozen=True)
class TtftResult:
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float


def first_content(line: str) -> bool:
    """True for an SSE data line whose chunk carries non-empty content."""
    if not line.startswith("data:"):
        return False
    payload = line[5:].strip()
    if payload == "[DONE]":
        return False
    try:
        choices = json.loads(payload).get("choices") or [{}]
    except json.JSONDecodeError:
        return False
    return bool((choices[0].get("delta") or {}).get("content"))


async def one(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> float:
    """Seconds until the first content chunk; raises on a failed request."""
    start = time.perf_counter()
    first: float | None = None
    async with client.stream("POST", url, content=body, headers=headers) as response:
        if response.status_code != 200:
            raise httpx.HTTPStatusError("bad status", request=response.request, response=response)
        async for line in response.aiter_lines():
            if first is None and first_content(line):
                first = time.perf_counter() - start
    if first is None:
        raise ValueError("stream carried no content")
    return first


async def measure(
    url: str, body: bytes, headers: dict[str, str], concurrency: int, total: int,
    time_cap_s: float,
) -> TtftResult:
    """``total`` requests by ``concurrency`` workers, stopping early after ``time_cap_s``."""
    deadline = time.monotonic() + time_cap_s
    samples: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    all_headers = {"content-type": "application/json", **headers}

    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        async def worker() -> None:
            nonlocal errors
            while not queue.empty() and time.monotonic() < deadline:
                queue.get_nowait()
                try:
                    samples.append(await one(client, url, body, all_headers))
                except (httpx.HTTPError, ValueError):
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    ms = [s * 1000 for s in samples[concurrency:]]  # the first wave also opens connections
    return TtftResult(len(samples) + errors, errors, percentile(ms, 50), percentile(ms, 99))


def run_ttft(
    url: str, body: bytes, headers: dict[str, str], concurrency: int, total: int,
    time_cap_s: float = 15.0,
) -> TtftResult:
    return asyncio.run(measure(url, body, headers, concurrency, total, time_cap_s))
