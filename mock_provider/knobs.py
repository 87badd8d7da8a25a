"""Behaviour knobs of the mock provider: latency, chunk pacing and error injection.

Process-wide defaults come from the environment (:meth:`Knobs.from_env`); each request may
override them through ``x-mock-*`` headers (:meth:`Knobs.with_headers`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

ENV_PREFIX = "OMG_MOCK_"
HEADER_PREFIX = "x-mock-"


class KnobError(ValueError):
    """A knob value that cannot be parsed; ``source`` names the env var or header."""

    def __init__(self, source: str, value: str, expected: str) -> None:
        super().__init__(f"Invalid value for '{source}': {value!r} (expected {expected}).")
        self.source = source


@dataclass(frozen=True, slots=True)
class Knobs:
    """How the mock behaves.

    ``error_status`` 0 disables error injection; otherwise a request fails with that status
    when a draw from the app's RNG is below ``error_rate``. A status given through env or
    headers without a rate gets rate 1.0 (always fail). ``chunks`` splits a streamed answer
    into that many content deltas instead of one per word. ``seed`` seeds the app's RNG.
    ``abort_after_chunks`` breaks a streamed answer: after that many SSE events the
    connection is dropped without ending the stream (a stream that fails once started).
    """

    latency_ms: float = 0.0
    chunk_delay_ms: float = 0.0
    error_status: int = 0
    error_rate: float = 0.0
    chunks: int | None = None
    seed: int | None = None
    abort_after_chunks: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Knobs:
        """Read ``OMG_MOCK_{LATENCY_MS,CHUNK_DELAY_MS,ERROR_STATUS,ERROR_RATE,CHUNKS,SEED}``
        and ``OMG_MOCK_ABORT_AFTER_CHUNKS``."""
        source = os.environ if env is None else env
        values = {
            name: source[_env_name(name)]
            for name in (*TUNABLE, "seed")
            if source.get(_env_name(name), "").strip()
        }
        knobs = override(cls(), values, _env_name)
        if "seed" in values:
            knobs = replace(knobs, seed=_parse_int(values["seed"], _env_name("seed")))
        return knobs

    def with_headers(self, headers: Mapping[str, str]) -> Knobs:
        """Return these knobs overridden by ``x-mock-*`` request headers (names lower-case).

        Recognised: ``x-mock-latency-ms``, ``x-mock-chunk-delay-ms``, ``x-mock-error-status``,
        ``x-mock-error-rate``, ``x-mock-chunks``, ``x-mock-abort-after-chunks``. Raises
        :class:`KnobError` on bad values.
        """
        values = {
            name: headers[_header_name(name)] for name in TUNABLE if _header_name(name) in headers
        }
        return override(self, values, _header_name) if values else self


TUNABLE = ("latency_ms", "chunk_delay_ms", "error_status", "error_rate", "chunks",
           "abort_after_chunks")


def _env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _header_name(field: str) -> str:
    return HEADER_PREFIX + field.replace("_", "-")


def override(knobs: Knobs, values: Mapping[str, str], source: Callable[[str], str]) -> Knobs:
    """Parse raw ``values`` keyed by :data:`TUNABLE` field name over ``knobs``.

    ``source(field)`` names where a value came from, for :class:`KnobError` messages.
    """
    changes: dict[str, Any] = {}
    for name in ("latency_ms", "chunk_delay_ms"):
        if name in values:
            changes[name] = _parse_float(values[name], source(name), 0.0, 3_600_000.0)
    if "error_status" in values:
        status = _parse_int(values["error_status"], source("error_status"))
        if status != 0 and not 400 <= status <= 599:
            raise KnobError(source("error_status"), values["error_status"], "0 or 400-599")
        changes["error_status"] = status
        changes["error_rate"] = 1.0
    if "error_rate" in values:
        changes["error_rate"] = _parse_float(values["error_rate"], source("error_rate"), 0.0, 1.0)
    for name in ("chunks", "abort_after_chunks"):
        if name in values:
            count = _parse_int(values[name], source(name))
            if count < 1:
                raise KnobError(source(name), values[name], "an integer >= 1")
            changes[name] = count
    return replace(knobs, **changes)


def _parse_int(raw: str, source: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise KnobError(source, raw, "an integer") from None


def _parse_float(raw: str, source: str, low: float, high: float) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise KnobError(source, raw, f"a number in [{low:g}, {high:g}]") from None
    if not low <= value <= high:  # also rejects NaN
        raise KnobError(source, raw, f"a number in [{low:g}, {high:g}]")
    return value
