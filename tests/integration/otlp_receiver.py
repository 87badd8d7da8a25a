"""A real OTLP/HTTP receiver for tests: decodes the protobuf export requests it is sent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

DECODERS: dict[str, tuple[Any, Any]] = {
    "/v1/traces": (trace_service_pb2.ExportTraceServiceRequest,
                   trace_service_pb2.ExportTraceServiceResponse),
    "/v1/metrics": (metrics_service_pb2.ExportMetricsServiceRequest,
                    metrics_service_pb2.ExportMetricsServiceResponse),
}


@dataclass
class OtlpReceiver:
    url: str = ""
    traces: list[trace_service_pb2.ExportTraceServiceRequest] = field(default_factory=list)
    metrics: list[metrics_service_pb2.ExportMetricsServiceRequest] = field(default_factory=list)

    def spans(self) -> list[Any]:
        return [span for export in list(self.traces) for resource in export.resource_spans
                for scope in resource.scope_spans for span in scope.spans]

    def metric_names(self) -> set[str]:
        return {metric.name for export in list(self.metrics)
                for resource in export.resource_metrics
                for scope in resource.scope_metrics for metric in scope.metrics}


def handler_for(receiver: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            decoder = DECODERS.get(self.path)
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if decoder is None or self.headers.get("content-type") != "application/x-protobuf":
                self.send_error(404 if decoder is None else 415)
                return
            message = decoder[0].FromString(body)
            (receiver.traces if self.path == "/v1/traces" else receiver.metrics).append(message)
            reply = decoder[1]().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def otlp_receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
