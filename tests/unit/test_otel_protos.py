"""xds-protos ships an older copy of opentelemetry's protos that can overwrite
opentelemetry-proto's files, depending on install order (see scripts/repair-otel-protos, which
`make install` and the Dockerfile run). The OTLP exporter needs the real ones."""

from __future__ import annotations


def test_opentelemetry_protos_are_opentelemetry_protos_own() -> None:
    from opentelemetry.proto.common.v1 import common_pb2

    assert hasattr(common_pb2, "InstrumentationScope"), (
        "opentelemetry/proto was overwritten by xds-protos: run scripts/repair-otel-protos")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    assert OTLPSpanExporter is not None
