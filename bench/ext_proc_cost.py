"""CPU per request of the ext_proc process alone, driven by a gRPC client that plays Envoy.

`python -m bench.ext_proc_cost [--requests N] [--concurrency C] [--sequence S ...]`

Each sequence replays the messages Envoy sends for one non-streamed chat completion, waiting
for every answer as Envoy does, against a fresh ext_proc server (a child process: the real
`ExternalProcessor` over an in-memory snapshot, or `--servicer minimal`, which answers every
message with an empty CONTINUE and shows what gRPC aio itself costs). Only the server's CPU
seconds count, read with psutil, so the noise of a shared machine weighs less than in
end-to-end runs. Sequences:

- `four`: request headers, request body, response headers, buffered response body (the
  former processing mode: `response_header_mode: SEND`, `response_body_mode: BUFFERED`);
- `three`: request headers, request body, one streamed body chunk carrying the status as an
  attribute, then Envoy's empty end-of-stream (sent without waiting: the server has closed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import psutil
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc

from bench.procs import free_port
from ext_proc.messages import http_headers

KEY = "omg-bench-key"
REPLY = (b'{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":'
         b'"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,'
         b'"completion_tokens":2,"total_tokens":11}}')


def request_messages(n: int) -> list[pb.ProcessingRequest]:
    return [
        pb.ProcessingRequest(request_headers=http_headers(
            (":method", "POST"), (":path", "/v1/chat/completions"), ("x-request-id", f"r{n}"),
            ("authorization", f"Bearer {KEY}"), ("content-type", "application/json"))),
        pb.ProcessingRequest(request_body=pb.HttpBody(
            body=b'{"model":"m","messages":[{"role":"user","content":"hi"}]}',
            end_of_stream=True)),
    ]


def four(n: int) -> tuple[list[pb.ProcessingRequest], list[pb.ProcessingRequest]]:
    """(messages Envoy waits on one by one, then messages it streams without waiting)."""
    return [*request_messages(n),
            pb.ProcessingRequest(response_headers=http_headers(
                (":status", "200"), ("content-type", "application/json"))),
            pb.ProcessingRequest(response_body=pb.HttpBody(body=REPLY, end_of_stream=True))], []


def three(n: int) -> tuple[list[pb.ProcessingRequest], list[pb.ProcessingRequest]]:
    chunk = pb.ProcessingRequest(response_body=pb.HttpBody(body=REPLY))
    chunk.attributes["envoy.filters.http.ext_proc"].update({"response.code": 200})
    tail = pb.ProcessingRequest(response_body=pb.HttpBody(end_of_stream=True))
    return request_messages(n), [chunk, tail]


SEQUENCES: dict[str, Callable[[int], tuple[list[Any], list[Any]]]] = {
    "four": four, "three": three,
}


class MinimalProcessor(external_processor_pb2_grpc.ExternalProcessorServicer):
    """Answers every message with an empty CONTINUE of its kind: the floor of gRPC aio."""

    async def Process(self, request_iterator: AsyncIterator[pb.ProcessingRequest],
                      context: Any) -> AsyncIterator[pb.ProcessingResponse]:
        async for request in request_iterator:
            kind = request.WhichOneof("request")
            if kind in ("request_headers", "response_headers"):
                yield pb.ProcessingResponse(**{kind: pb.HeadersResponse()})
            else:
                yield pb.ProcessingResponse(**{kind: pb.BodyResponse()})
                if kind == "response_body":
                    return


def gateway_processor() -> Any:
    from ext_proc.servicer import ExternalProcessor
    from ext_proc.snapshot import SnapshotHolder
    from omg_common.keys import hash_secret
    from protos import config_pb2

    holder = SnapshotHolder()
    holder.apply(config_pb2.ConfigUpdate(
        full=True, version="1",
        upsert_keys=[config_pb2.ApiKey(id="k1", key_hash=hash_secret(KEY), tenant_id="t1")],
        upsert_deployments=[config_pb2.Deployment(
            id="d1", model="m", provider="openai", base_url="http://u/v1", cluster="c")],
        upsert_models=[config_pb2.Model(name="m")],
    ))
    return ExternalProcessor(holder, lambda record: None, random.Random(0))


async def serve(port: int, servicer: str) -> None:
    server = grpc.aio.server()
    processor = MinimalProcessor() if servicer == "minimal" else gateway_processor()
    external_processor_pb2_grpc.add_ExternalProcessorServicer_to_server(processor, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


async def one_request(stub: Any, sequence: Callable[[int], Any], n: int) -> None:
    waited, streamed = sequence(n)
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def outgoing() -> AsyncIterator[pb.ProcessingRequest]:
        for message in waited:
            yield message
            await queue.get()  # Envoy waits for the answer to headers and buffered bodies
        for message in streamed:  # STREAMED chunks go out back to back
            yield message

    call = stub.Process(outgoing())
    with contextlib.suppress(grpc.aio.AioRpcError):  # the server closed before the last send
        async for _ in call:
            queue.put_nowait(None)


async def drive(port: int, sequence: Callable[[int], Any], requests: int,
                concurrency: int) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        for _ in range(300):  # the child server is still importing
            if channel.get_state(try_to_connect=True) == grpc.ChannelConnectivity.READY:
                break
            await asyncio.sleep(0.1)
        stub = external_processor_pb2_grpc.ExternalProcessorStub(channel)
        counter = iter(range(requests))

        async def worker() -> None:
            for n in counter:
                await one_request(stub, sequence, n)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def server_cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def measure(sequence: str, servicer: str, requests: int, concurrency: int,
            tuning: list[str]) -> dict[str, Any]:
    port = free_port()
    argv = [sys.executable, "-m", "bench.ext_proc_cost", "--serve", str(port),
            "--servicer", servicer, *(f"--{name}" for name in tuning)]
    child = subprocess.Popen(argv)
    try:
        process = psutil.Process(child.pid)
        asyncio.run(drive(port, SEQUENCES[sequence], 200, concurrency))  # warm up
        before, started = server_cpu(process), time.monotonic()
        asyncio.run(drive(port, SEQUENCES[sequence], requests, concurrency))
        cpu, wall = server_cpu(process) - before, time.monotonic() - started
    finally:
        child.terminate()
        child.wait(timeout=10)
    return {"sequence": sequence, "servicer": servicer, "tuning": "+".join(tuning) or "none",
            "requests": requests,
            "server_cpu_us_per_req": round(cpu / requests * 1e6, 1),
            "client_rps": round(requests / wall, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ext_proc_cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sequence", action="append", choices=list(SEQUENCES))
    parser.add_argument("--servicer", choices=["gateway", "minimal"], default="gateway")
    parser.add_argument("--repeat", type=int, default=1, help="alternate sequences N times")
    parser.add_argument("--uvloop", action="store_true", help="serve on uvloop")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        if args.uvloop:
            import uvloop

            uvloop.run(serve(args.serve, args.servicer))
        else:
            asyncio.run(serve(args.serve, args.servicer))
        return 0
    tuning = ["uvloop"] if args.uvloop else []
    for _ in range(args.repeat):
        for sequence in args.sequence or list(SEQUENCES):
            print(measure(sequence, args.servicer, args.requests, args.concurrency, tuning),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
