"""`python -m bench.observe_cost`: what metrics cost per request on ext_proc's hot path.

Times `GatewayMetrics.observe` (one usage record -> every request metric) in one process and
in prometheus-client's multiprocess mode (as under `omg up`, samples go to mmap'd files),
flushing once per 64 requests, and
the OTLP path (span + OTel instruments) that only runs when OMG_OTLP_ENDPOINT is set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import timeit

RUNS = 20000
MEASURE = """
import sys, timeit
from prometheus_client import CollectorRegistry
from ext_proc.metrics import GatewayMetrics
from protos import usage_pb2
records = [usage_pb2.UsageRecord(
    request_id=f"r{i}", provider="openai", deployment_id=f"d{i % 4}", model="m", status=200,
    prompt_tokens=120, completion_tokens=80, total_tokens=200, latency_ms=900.0, ttft_ms=90.0,
    stream=True, endpoint="chat.completions", created_at_ms=1) for i in range(64)]
metrics = GatewayMetrics(CollectorRegistry())
observe, flush = metrics.observe, metrics.flush
if sys.argv[2] == "otlp":
    from ext_proc.otlp import OtlpTelemetry
    observe = OtlpTelemetry("http://127.0.0.1:9").observe  # nothing listens: export fails late
runs = int(sys.argv[1])
# A flush per 64 requests (ext_proc flushes once a second: usually far more requests).
seconds = timeit.timeit(lambda: ([observe(r, 0.0004) for r in records], flush()),
                        number=runs // 64)
print(f"{seconds / runs * 1e6:.1f}")
"""


SERVICER = """
import asyncio, random, sys, time
from prometheus_client import CollectorRegistry
from ext_proc.metrics import GatewayMetrics
from ext_proc.servicer import ExternalProcessor
from tests.unit.test_servicer_disconnect import Context, holder, messages

async def per_request(observe, runs):
    processor = ExternalProcessor(holder(), lambda r: None, random.Random(0), observe=observe)
    started = time.perf_counter()
    for _ in range(runs):
        async for _ in processor.Process(messages(True), Context()):
            pass
    return (time.perf_counter() - started) / runs * 1e6

runs = int(sys.argv[1]) // 20
metrics = GatewayMetrics(CollectorRegistry())
bare, metered = [], []
for _ in range(5):  # alternate and keep the best of each: other load on the machine is noise
    bare.append(asyncio.run(per_request(None, runs)))
    metered.append(asyncio.run(per_request(metrics.observe, runs)))
    metrics.flush()
print(f"{min(bare):.1f} {min(metered):.1f}")
"""


def measure(mode: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(RUNS), mode], env=env,
                         check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def main() -> None:
    base = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    with tempfile.TemporaryDirectory() as shared:
        rows = [
            ("prometheus, one process", measure("prom", base)),
            ("prometheus, multiprocess mode", measure("prom", {
                **base, "PROMETHEUS_MULTIPROC_DIR": shared})),
            ("OTLP span + instruments (only with OMG_OTLP_ENDPOINT)", measure("otlp", base)),
        ]
    out = subprocess.run([sys.executable, "-c", SERVICER, str(RUNS)], env=base, check=True,
                         capture_output=True, text=True).stdout.split()
    bare, metered = float(out[0]), float(out[1])
    baseline = timeit.timeit("time.perf_counter()", "import time", number=RUNS) / RUNS * 1e6
    for name, micros in rows:
        print(f"{name:56s} {micros:7.1f} us/request")
    print(f"{'ext_proc servicer, 4-message stream, no metrics':56s} {bare:7.1f} us/request")
    print(f"{'ext_proc servicer, same, with metrics.observe':56s} {metered:7.1f} us/request "
          f"(+{(metered - bare) / bare:.0%})")
    print(f"{'(two perf_counter calls per ext_proc message, overhead timing)':56s} "
          f"{2 * baseline:7.2f} us/message")


if __name__ == "__main__":
    main()
