"""The benchmark harness runs end to end in smoke mode (direct + gateway, tiny load)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SMOKE_POINTS = ("c1", "c16", "c64", "stream-c16")


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not math.isnan(value)


def test_bench_smoke_writes_results(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    doc = json.loads((tmp_path / "latest.json").read_text())
    for target in ("direct", "gateway"):
        result = doc["targets"][target]
        assert result["status"] == "ok", result
        for point in SMOKE_POINTS:
            figures = result["points"][point]
            assert "failed" not in figures, figures
            assert figures["requests"] > 0
            assert figures["errors"] == 0, (target, point, figures)
            for key in ("rps", "p50_ms", "p99_ms", "cpu_s_per_1k", "peak_rss_mb"):
                assert is_number(figures[key]), (target, point, key, figures[key])
        assert result["ttft"]["errors"] == 0
        assert is_number(result["ttft"]["p50_ms"])
    assert is_number(doc["targets"]["gateway"]["points"]["c16"]["added_p50_ms"])
    assert (tmp_path / "latest.md").read_text().startswith("# Open Model Gateway benchmark")
